import { chmodSync, mkdirSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { homedir } from "node:os";
import type { AppDependencies } from "./api/app.js";
import type { Config } from "./config/config-schema.js";
import type { DataKey } from "./data-key.js";
import type { Logger } from "./logger.js";
import { createReconciler } from "./loops/reconciler.js";
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
import type { Store } from "./store/store.js";
import { createArtifactStore } from "./artifacts/create-artifact-store.js";
import { createClamdScanner } from "./artifacts/scanner/index.js";
import { createArtifactService } from "./services/artifact-service.js";
import { createDownloadLinks } from "./services/artifact-downloads.js";
import { createAccessTokens } from "./compat/e2b/access-tokens.js";
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

export interface ControlPlaneOptions {
  config: Config;
  dataDirectory: string;
  /** Migrated; the control plane closes it. */
  store: Store;
  dataKey: DataKey;
  agentdBundlePath: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The reconciler's `startingGraceMs`: set where other processes provision too (Lambda). */
  startingGraceMs?: number;
}

function defaultToolsDirectory(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "ciab", "tools");
}

/**
 * The store, runtimes and services, wired once, and what createApp needs. Nothing here starts a loop, listens
 * or resumes work: the long-running server (server.ts) and the Lambda entry points (lambda/) each decide that.
 */
export async function createControlPlane(options: ControlPlaneOptions) {
  const { config, dataDirectory, store, dataKey, agentdBundlePath, env, logger } = options;
  const installationID = await store.meta.setIfAbsent("installation_id", randomBytes(8).toString("hex"));
  const auth = createAuthService(store);
  const audit = createAuditLog({ store, file: config.audit.file, logger: logger.child({ component: "audit" }) });

  const toolsDirectory = path.resolve(config.runtime.tools_dir ?? defaultToolsDirectory(env));
  mkdirSync(toolsDirectory, { recursive: true });
  // Sandbox dirs hold what sandboxes wrote (setuid files from a container's root among them): no other
  // host user may reach into them.
  const sandboxesDirectory = path.join(dataDirectory, "sandboxes");
  mkdirSync(sandboxesDirectory, { recursive: true, mode: 0o700 });
  chmodSync(sandboxesDirectory, 0o700);
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
  const volumes = createVolumeService({
    store,
    runtimes,
    logger: logger.child({ component: "volumes" }),
    releaseWaitMs: config.runtime.volume_release_wait_seconds * 1000,
    maxSizeGiB: (workspaceID) => config.runtime.workspaces[workspaceID]?.volume_max_size_gib ?? config.runtime.volume_max_size_gib,
  });
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
    dataKey,
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
    ...(options.startingGraceMs !== undefined && { startingGraceMs: options.startingGraceMs }),
  });
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
    env: { ...process.env, ...env },
    logger: logger.child({ component: "images" }),
  });
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
    auth,
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
  const appDependencies: AppDependencies = {
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
    budget,
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
    e2bAccessTokens: createAccessTokens(store, dataKey),
    ...(downloadSigner &&
      configOffers && {
        machineDownloads: {
          signer: downloadSigner,
          files: { node: process.execPath, agentd: agentdBundlePath },
          toolsArchive: createToolsArchiver(toolsDirectory, path.join(dataDirectory, "machine-tools")),
          configs: configOffers,
        },
      }),
  };

  return {
    config,
    store,
    installationID,
    auth,
    audit,
    runtimes,
    connections,
    sandboxes,
    sessions,
    runner,
    reconciler,
    images,
    gateway,
    activity,
    previews,
    reverseChannels,
    terminalExec,
    appDependencies,
    async close(): Promise<void> {
      reverseChannels?.close();
      await images.close();
      await runner.close();
      await gateway.closeAll();
      await sandboxes.close();
      connections.closeAll();
      await runtimes.close();
      await audit.flush();
      await store.close();
    },
  };
}

export type ControlPlane = Awaited<ReturnType<typeof createControlPlane>>;
