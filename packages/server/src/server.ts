import { chmodSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { homedir } from "node:os";
import { CiabError } from "@ciab/protocol";
import { createApp } from "./api/app.js";
import { createAttachServer } from "./api/attach.js";
import { createPreviewProxy } from "./api/preview-proxy.js";
import { agentChannelPathPrefix, createAgentChannelServer } from "./api/agent-channel.js";
import { ensureAgentdBundle } from "./agentd-bundle.js";
import { loadConfig } from "./config/load-config.js";
import type { Config } from "./config/config-schema.js";
import { loadDataKey } from "./data-key.js";
import { createHTTPEdge } from "./http-edge.js";
import { createLogger, type Logger } from "./logger.js";
import { createReconciler } from "./loops/reconciler.js";
import { startBudgetLoops } from "./loops/budget-loops.js";
import { createRuntimeRegistry } from "./runtimes/runtime-registry.js";
import { ReverseChannelHub } from "./runtimes/ec2/reverse-hub.js";
import { createActivityTracker } from "./services/activity-tracker.js";
import { createAgentConnections } from "./services/agent-connections.js";
import { createBudgetService } from "./services/budget-service.js";
import { createPricing } from "./services/pricing-service.js";
import { createUsageService } from "./services/usage-service.js";
import { createPreviewService } from "./services/preview-service.js";
import { createPreviewTokens, loadPreviewKey } from "./services/preview-tokens.js";
import { createAuthService } from "./services/auth-service.js";
import { createExecService } from "./services/exec-service.js";
import { createFileService } from "./services/file-service.js";
import { createSandboxService } from "./services/sandbox-service.js";
import { createWorkspaceService } from "./services/workspace-service.js";
import { createTokenService } from "./services/token-service.js";
import { createUserService } from "./services/user-service.js";
import { lockDataDirectory } from "./data-dir-lock.js";
import { createSandboxLifetimes } from "./loops/sandbox-lifetimes.js";
import { startIntervalLoop } from "./loops/interval-loop.js";
import { MachineConfigOffers, machineDownloadSource } from "./services/machine-config-offers.js";
import { createToolsArchiver } from "./services/tools-archive.js";
import { createMachineDownloadSigner } from "./services/machine-download-signer.js";
import { createEventService } from "./services/event-service.js";
import { createSecretService } from "./services/secret-service.js";
import { createSessionGateway } from "./services/session-gateway.js";
import { createSessionRunner } from "./services/session-runner.js";
import { createSessionService } from "./services/session-service.js";
import { createOutboundPolicy } from "./services/outbound-policy.js";
import { createGatewayService } from "./gateway/index.js";
import { createStore } from "./store/create-store.js";
import { createArtifactStore } from "./artifacts/create-artifact-store.js";
import { createClamdScanner } from "./artifacts/scanner/index.js";
import { createArtifactService } from "./services/artifact-service.js";
import { createDownloadLinks } from "./services/artifact-downloads.js";
import { createSnapshotService, type SnapshotService } from "./services/snapshot-service.js";
import { createShellService } from "./services/shell-service.js";
import { createAuditLog } from "./services/audit/audit-log.js";
import { auditedServices } from "./services/audit/audited-services.js";
import { createApprovalService } from "./services/policy/approval-service.js";
import { createToolPolicy } from "./services/policy/tool-policy.js";
import { createToolService } from "./services/tools/tool-service.js";
import { createVolumeService } from "./services/volume-service.js";
import { sandboxOwner } from "./services/final-snapshot.js";
import { defaultPersistenceFor } from "./config/persistence-default.js";
import { createImageService, type ImageService } from "./services/image-service.js";
import { ImageBuildLogs } from "./services/image-build-log.js";
import { createImageBackends } from "./images/image-backends.js";

export const version = "0.1.0";

export interface StartServerOptions {
  port?: number;
  host?: string;
  dataDirectory?: string;
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Defaults to a pino logger on stderr at the configured level. */
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  dataDirectory: string;
  adminTokenFile: string;
  close(): Promise<void>;
}

function defaultToolsDirectory(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "ciab", "tools");
}

/** Wires config, store, runtimes, services, loops and the HTTP app, then listens. */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const config = loadConfig({
    ...(options.configPath !== undefined && { configPath: options.configPath }),
    ...(options.env !== undefined && { env: options.env }),
    flags: { "server.port": options.port, "server.host": options.host, "server.data_dir": options.dataDirectory },
  });
  const dataDirectory = path.resolve(config.server.data_dir);
  mkdirSync(dataDirectory, { recursive: true, mode: 0o700 });
  const logger = options.logger ?? createLogger(config.server.log_level);
  const lock = lockDataDirectory(dataDirectory);
  try {
    return await startLocked(options, config, dataDirectory, logger, lock.release);
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** The rest of start-up, with the data dir locked; `releaseLock` runs when the server closes. */
async function startLocked(
  options: StartServerOptions,
  config: Config,
  dataDirectory: string,
  logger: Logger,
  releaseLock: () => void,
): Promise<RunningServer> {
  const store = await createStore(config.store, dataDirectory, options.env ?? process.env);
  await store.migrate();
  const installationID = await store.meta.setIfAbsent("installation_id", randomBytes(8).toString("hex"));
  const dataKey = loadDataKey(dataDirectory, options.env);
  const auth = createAuthService(store);
  const audit = createAuditLog({ store, file: config.audit.file, logger: logger.child({ component: "audit" }) });
  const bootstrap = await auth.bootstrapAdmin(dataDirectory);
  if (bootstrap.created) logger.info(`first start: admin token written to ${bootstrap.tokenFile}`);

  const toolsDirectory = path.resolve(config.runtime.tools_dir ?? defaultToolsDirectory(options.env ?? process.env));
  mkdirSync(toolsDirectory, { recursive: true });
  // Sandbox dirs hold what sandboxes wrote (setuid files from a container's root among them): no other
  // host user may reach into them.
  const sandboxesDirectory = path.join(dataDirectory, "sandboxes");
  mkdirSync(sandboxesDirectory, { recursive: true, mode: 0o700 });
  chmodSync(sandboxesDirectory, 0o700);
  const agentdBundlePath = await ensureAgentdBundle();
  const downloadSigner =
    config.server.public_url === undefined
      ? undefined
      : createMachineDownloadSigner({
          publicURL: config.server.public_url,
          key: Buffer.from(dataKey.open(await store.meta.setIfAbsent("machine_download_key", dataKey.seal(randomBytes(32).toString("hex")))), "hex"),
        });
  const configOffers = downloadSigner && new MachineConfigOffers(downloadSigner);
  const reverseChannels =
    config.server.public_url === undefined
      ? undefined
      : new ReverseChannelHub({ publicURL: config.server.public_url, dataDirectory, logger: logger.child({ component: "agent-channel" }) });
  const runtimes = createRuntimeRegistry(
    config.runtime,
    {
      dataDirectory,
      installationID,
      agentdBundlePath,
      nodeBinaryPath: process.execPath,
      toolsDirectory,
      logger,
      dataKey,
      ...(downloadSigner && configOffers && { machineDownloads: machineDownloadSource(downloadSigner, configOffers) }),
      ...(reverseChannels && { reverseChannels }),
    },
    logger,
  );
  const connections = createAgentConnections(runtimes);
  const budget = createBudgetService({ store, maxHourlyUSD: config.budget.max_hourly_usd });
  const events = createEventService(store);
  const activity = createActivityTracker();
  const secrets = createSecretService(store, dataKey);
  const sessionGateway = createSessionGateway(store, events, logger, activity);
  const gateway = createGatewayService({
    config: config.gateway,
    dataDirectory,
    sessions: sessionGateway,
    secrets: { get: (workspaceID, name) => secrets.value(workspaceID, name) },
    logger: logger.child({ component: "gateway" }),
    publishArtifact: (sessionID, request) => audited.artifacts.publishForSession(sessionID, request),
  });
  const artifactStore = await createArtifactStore(config.artifacts, dataDirectory);
  // Sandbox creation restores snapshots and snapshots read sandboxes: the service is bound once both exist.
  let snapshots: SnapshotService | undefined;
  const volumes = createVolumeService({ store, runtimes, logger: logger.child({ component: "volumes" }) });
  let images: ImageService | undefined;
  const sandboxes = createSandboxService({
    store,
    runtimes,
    connections,
    dataKey,
    logger,
    agentReadyTimeoutMs: config.server.agent_ready_timeout_seconds * 1000,
    releaseSandbox: (sandboxID) => gateway.close(sandboxID),
    allowHostNetwork: config.policy.allow_host_network,
    pricing: createPricing(config.budget),
    budget,
    activity,
    limits: {
      runtimes: config.policy.runtimes,
      images: config.policy.images,
      workspaceImages: config.policy.workspace_images,
      maxCpus: config.policy.max_cpus,
      maxMemoryMB: config.policy.max_memory_mb,
      maxPids: config.policy.max_pids,
    },
    lifetimes: {
      defaultTimeoutSeconds: config.sandboxes.default_timeout_seconds,
      maxTimeoutSeconds: config.sandboxes.max_timeout_seconds,
      onTimeout: config.sandboxes.on_timeout,
      pausedRetentionSeconds: config.sandboxes.paused_retention_seconds,
    },
    builtImages: { resolve: (workspaceID, runtime, image) => images!.resolve(workspaceID, runtime, image) },
    snapshots: {
      check: (workspaceID, id) => snapshots!.check(workspaceID, id),
      restore: (workspaceID, id, agent, signal) => snapshots!.restore(workspaceID, id, agent, signal),
    },
    volumes,
    defaultPersistence: (workspaceID) => defaultPersistenceFor(config.runtime, workspaceID),
    finalSnapshots: {
      take: async (sandbox, label, signal) => (await snapshots!.create(sandboxOwner(sandbox), { sandboxID: sandbox.id }, label, signal)).id,
      timeoutMs: config.runtime.final_snapshot_timeout_seconds * 1000,
    },
  });
  snapshots = createSnapshotService({
    store,
    artifactStore,
    withAgent: (principal, id, call) => sandboxes.withAgent(principal, id, call),
    maxBytes: config.artifacts.max_bytes,
    logger: logger.child({ component: "snapshots" }),
  });
  const downloads = createDownloadLinks({
    store,
    artifactStore,
    urlTTLSeconds: config.artifacts.url_ttl_seconds,
    limitBytesPerHour: config.artifacts.download_limit_bytes_per_hour,
  });
  const artifacts = createArtifactService({
    store,
    artifactStore,
    sandboxes,
    downloads,
    scanner: config.artifacts.scan ? createClamdScanner(config.artifacts) : undefined,
    maxBytes: config.artifacts.max_bytes,
    logger: logger.child({ component: "artifacts" }),
  });
  const reconciler = createReconciler({
    store,
    runtimes,
    sandboxes,
    logger,
    orphanGraceMs: config.server.orphan_grace_seconds * 1000,
  });
  await reconciler.reconcileOnce();
  const outbound = createOutboundPolicy({ allowPrivateNetwork: config.policy.allow_private_network, allow: config.policy.outbound_allow });
  images = createImageService({
    store,
    config: config.packer,
    backends: createImageBackends({ endpoint: config.packer.endpoint }),
    logs: new ImageBuildLogs(path.join(dataDirectory, "image-builds"), config.packer.max_log_bytes),
    policy: outbound,
    toolsDirectory,
    nodeBinary: process.execPath,
    agentdBundlePath,
    env: { ...process.env, ...options.env },
    logger: logger.child({ component: "images" }),
  });
  await images.recover(AbortSignal.timeout(120_000));
  const runner = createSessionRunner({
    store,
    events,
    sandboxes,
    gateway: {
      open: async (sandboxID) => void (await gateway.open(sandboxID)),
      cutOff: (sessionID) => sessionGateway.cutOff(sessionID),
    },
    dataKey,
    outbound,
    maxRepoBytes: config.policy.max_repo_mb * 1024 * 1024,
    maxOutputBytes: config.policy.max_session_output_mb * 1024 * 1024,
    toolsDirectory,
    logger: logger.child({ component: "sessions" }),
    activity,
  });
  const sessions = createSessionService({
    store,
    sandboxes,
    runner,
    dataKey,
    outbound,
    allowLocalRepos: config.policy.allow_local_repos,
    dataDirectory,
    budget,
    snapshots,
    volumes,
  });
  await runner.resumeAll();
  const loops = new AbortController();
  reconciler.start(config.server.reconcile_interval_seconds * 1000, loops.signal);
  const lifetimes = createSandboxLifetimes({ store, sandboxes, batchSize: config.sandboxes.batch_size, logger: logger.child({ component: "lifetimes" }) });
  startIntervalLoop(
    { name: "sandbox-lifetimes", intervalMs: config.sandboxes.check_interval_seconds * 1000, signal: loops.signal, passTimeoutMs: 120_000, logger },
    (passSignal) => lifetimes.checkOnce(passSignal),
  );
  startBudgetLoops({ config: config.budget, store, runner, sandboxes, activity, logger: logger.child({ component: "budget" }) }, loops.signal);

  // Every route and the gateway call these wrapped services, so each tool call is audited once.
  const terminalExec = createExecService(sandboxes);
  const audited = auditedServices(
    { exec: terminalExec, files: createFileService(sandboxes), shell: createShellService(sandboxes), artifacts, snapshots },
    audit,
  );
  const exec = audited.exec;
  const approvals = createApprovalService({ store, dataKey, timeoutMs: config.policy.approval_timeout_seconds * 1000 });
  const approvalMaxWaitMs = config.policy.approval_max_wait_seconds * 1000;
  const tools = createToolService({
    store,
    services: { exec: createExecService(sandboxes), files: createFileService(sandboxes), shell: createShellService(sandboxes), artifacts },
    policy: createToolPolicy(config.policy.tool_rules),
    approvals,
    audit,
    maxWaitMs: approvalMaxWaitMs,
  });
  const previews = createPreviewService({
    store,
    connections,
    tokens: createPreviewTokens(loadPreviewKey(dataDirectory), config.previews.token_ttl_seconds),
    touch: (sandboxID) => sandboxes.touch(sandboxID),
    maxStreamsPerSession: config.previews.max_streams_per_session,
    audit: (entry) =>
      void audit.record({
        workspaceID: entry.workspaceID,
        actor: entry.userID,
        tool: entry.action,
        sessionID: entry.sessionID,
        args: { port: entry.port, expires_at: entry.expiresAt },
        durationMs: 0,
      }),
  });
  const previewProxy = createPreviewProxy({
    previews,
    domain: config.previews.domain,
    maxStreamsPerSession: config.previews.max_streams_per_session,
    logger: logger.child({ component: "previews" }),
  });
  const app = createApp({
    auth,
    sandboxes,
    exec,
    files: audited.files,
    shell: audited.shell,
    tools,
    approvals,
    audit,
    approvalMaxWaitMs,
    workspaces: createWorkspaceService(store, auth),
    tokens: createTokenService(store, auth),
    users: createUserService(store, auth),
    sessions,
    events,
    secrets,
    usage: createUsageService(store),
    previews,
    previewOptions: { publicURL: config.previews.public_url, domain: config.previews.domain },
    artifacts: audited.artifacts,
    snapshots: audited.snapshots,
    volumes,
    downloads,
    images,
    logger,
    bodyLimitBytes: config.server.body_limit_bytes,
    stdinLimitBytes: config.server.stdin_limit_bytes,
    eventPageBytes: config.server.event_page_bytes,
    version,
    ...(downloadSigner &&
      configOffers && {
        machineDownloads: {
          signer: downloadSigner,
          files: { node: process.execPath, agentd: agentdBundlePath },
          toolsArchive: createToolsArchiver(toolsDirectory, path.join(dataDirectory, "machine-tools")),
          configs: configOffers,
        },
      }),
  });
  const httpServer = createHTTPEdge(
    app.fetch,
    {
      maxConnections: config.server.max_connections,
      maxConnectionsPerAddress: config.server.max_connections_per_address,
      maxHeaderBytes: config.server.max_header_bytes,
      headersTimeoutMs: config.server.headers_timeout_seconds * 1000,
      requestTimeoutMs: config.server.request_timeout_seconds * 1000,
      keepAliveTimeoutMs: config.server.keep_alive_timeout_seconds * 1000,
    },
    logger,
    (request, response) => previewProxy.handleRequest(request, response),
  );
  // A terminal's keystrokes are not tool calls: attach uses the unaudited service.
  const attach = createAttachServer({
    auth,
    exec: terminalExec,
    sessionTarget: async (principal, sessionID) => {
      const session = await sessions.get(principal, sessionID);
      if (session.processPID === null || session.sandboxID === null || sessions.isFinal(session)) {
        throw new CiabError("invalid_state", `session ${sessionID} has no running agent to attach to (it is ${session.state})`);
      }
      return { sandboxID: session.sandboxID, pid: session.processPID };
    },
    logger,
  });
  const agentChannel = reverseChannels && createAgentChannelServer(reverseChannels, logger);
  httpServer.on("upgrade", (request, socket, head) => {
    if (agentChannel && request.url?.startsWith(agentChannelPathPrefix)) agentChannel.handleUpgrade(request, socket, head);
    else if (!previewProxy.handleUpgrade(request, socket, head)) attach.handleUpgrade(request, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.server.port, config.server.host, config.server.listen_backlog, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const serverFile = path.join(dataDirectory, "server.json");
  writeFileSync(serverFile, JSON.stringify({ url, pid: process.pid }) + "\n", { mode: 0o600 });

  let closed = false;
  return {
    url,
    dataDirectory,
    adminTokenFile: bootstrap.tokenFile,
    async close() {
      if (closed) return;
      closed = true;
      loops.abort();
      attach.close();
      previewProxy.close();
      agentChannel?.close();
      reverseChannels?.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        (httpServer as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await images?.close();
      await runner.close();
      await gateway.closeAll();
      await sandboxes.close();
      connections.closeAll();
      await runtimes.close();
      await audit.flush();
      await store.close();
      rmSync(serverFile, { force: true });
      releaseLock();
    },
  };
}
