import { mkdirSync, writeFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { CiabError } from "@ciab/protocol";
import { createApp } from "./api/app.js";
import { createAttachServer } from "./api/attach.js";
import { createPreviewProxy } from "./api/preview-proxy.js";
import { agentChannelPathPrefix, createAgentChannelServer } from "./api/agent-channel.js";
import { ensureAgentdBundle } from "./agentd-bundle.js";
import { loadConfig } from "./config/load-config.js";
import type { Config } from "./config/config-schema.js";
import { createControlPlane } from "./control-plane.js";
import { loadDataKey } from "./data-key.js";
import { webDistDirectory } from "@ciab/web/dist-path";
import { createHTTPEdge } from "./http-edge.js";
import { createLogger, type Logger } from "./logger.js";
import { startBudgetLoops } from "./loops/budget-loops.js";
import { lockDataDirectory } from "./data-dir-lock.js";
import { createSandboxLifetimes } from "./loops/sandbox-lifetimes.js";
import { startIntervalLoop } from "./loops/interval-loop.js";
import { createStore } from "./store/create-store.js";

export { version } from "./control-plane.js";

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
  const plane = await createControlPlane({
    config,
    dataDirectory,
    store,
    dataKey: loadDataKey(dataDirectory, options.env),
    agentdBundlePath: await ensureAgentdBundle(),
    env: options.env ?? process.env,
    logger,
  });
  const { auth, sandboxes, sessions, runner, reconciler, images, activity, reverseChannels } = plane;
  const bootstrap = await auth.bootstrapAdmin(dataDirectory);
  if (bootstrap.created) logger.info(`first start: admin token written to ${bootstrap.tokenFile}`);
  await reconciler.reconcileOnce();
  await images.recover(AbortSignal.timeout(120_000));
  await runner.resumeAll();
  const loops = new AbortController();
  reconciler.start(config.server.reconcile_interval_seconds * 1000, loops.signal);
  // A pass goes on past an ending that takes long (a final snapshot), so one tenant's sandboxes hold no other's.
  const lifetimes = createSandboxLifetimes({ store, sandboxes, batchSize: config.sandboxes.batch_size, logger: logger.child({ component: "lifetimes" }), itemWaitMs: 10_000 });
  startIntervalLoop(
    { name: "sandbox-lifetimes", intervalMs: config.sandboxes.check_interval_seconds * 1000, signal: loops.signal, passTimeoutMs: 120_000, logger },
    (passSignal) => lifetimes.checkOnce(passSignal),
  );
  startBudgetLoops({ config: config.budget, store, runner, sandboxes, activity, logger: logger.child({ component: "budget" }) }, loops.signal);
  const previewProxy = createPreviewProxy({
    previews: plane.previews,
    domain: config.previews.domain,
    maxStreamsPerSession: config.previews.max_streams_per_session,
    logger: logger.child({ component: "previews" }),
  });
  const app = createApp({ ...plane.appDependencies, webUI: { directory: webDistDirectory } });
  if (!config.previews.domain) {
    logger.warn("[previews] domain is not set: previews are served on the web UI's origin (docs/decisions/0051-path-previews-beside-the-web-ui.md); set it if untrusted previews are opened by people who use the UI");
  }
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
    exec: plane.terminalExec,
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
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        (httpServer as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await plane.close();
      rmSync(serverFile, { force: true });
      releaseLock();
    },
  };
}
