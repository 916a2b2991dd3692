import { mkdir, unlink } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import type { Logger } from "../logger.js";
import { agentSocketAddress } from "../runtimes/local/agent-socket.js";
import { gatewaySocketName, sandboxPaths } from "../runtimes/local/machine-layout.js";
import type { GatewayConfig } from "./gateway-config.js";
import { createGatewayForwarder } from "./gateway-forwarder.js";
import type { GatewayArtifactPublisher } from "./gateway-artifacts.js";
import { createGatewayHandler } from "./gateway-handler.js";
import type { GatewaySecrets, GatewaySessions } from "./gateway.js";

export interface GatewayServiceDeps {
  /** The `[gateway]` config section. */
  config: GatewayConfig;
  /** `[server] data_dir`: sockets go in `<dataDirectory>/sandboxes/<sandboxID>/run/gateway.sock`. */
  dataDirectory: string;
  sessions: GatewaySessions;
  secrets: GatewaySecrets;
  logger: Logger;
  /** The in-sandbox artifact publish (`POST /ciab/artifacts`); absent, the route is not served. */
  publishArtifact?: GatewayArtifactPublisher;
}

export interface GatewayService {
  /**
   * Serves the gateway on the sandbox's host `run/gateway.sock` (the machine's `/run/ciab/gateway.sock`,
   * which agentd relays to a loopback port). Idempotent; resolves with the socket's host path.
   */
  open(sandboxID: string): Promise<string>;
  /**
   * Stops serving a sandbox, cutting its in-flight requests, and removes its socket. Idempotent. A short
   * link made for a long run dir is shared with agentd's socket and left to the runtime that removes it.
   */
  close(sandboxID: string): Promise<void>;
  closeAll(): Promise<void>;
}

interface Listener {
  socketPath: string;
  server: http.Server;
}

/** Agents keep a handful of connections; this bounds a sandbox that opens thousands. */
const maximumConnectionsPerSandbox = 256;

export function createGatewayService(deps: GatewayServiceDeps): GatewayService {
  const forwarder = createGatewayForwarder();
  const listeners = new Map<string, Promise<Listener>>();

  const start = async (sandboxID: string): Promise<Listener> => {
    const { run } = sandboxPaths(deps.dataDirectory, sandboxID);
    const socketPath = path.join(run, gatewaySocketName);
    await mkdir(run, { recursive: true });
    // The run dir can sit deeper than sun_path allows; the runtimes' short-link rule applies here too.
    const address = await agentSocketAddress(socketPath);
    await unlink(socketPath).catch(() => undefined);
    const handler = createGatewayHandler({
      sandboxID,
      config: deps.config,
      sessions: deps.sessions,
      secrets: deps.secrets,
      publishArtifact: deps.publishArtifact,
      forwarder,
      logger: deps.logger.child({ sandboxID }),
    });
    // Model calls can think for minutes before the first byte: no request timeout of our own.
    const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 60_000 }, handler);
    // One sandbox must not use up the control plane's file descriptors for everyone.
    server.maxConnections = maximumConnectionsPerSandbox;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      // The socket is born 0666 (agents in a container may run as another user than the control plane).
      // Never chmod it afterwards: its directory is writable from inside the sandbox, which could swap the
      // path for a symlink to a host file in between. A unix socket binds synchronously inside listen().
      const previousUmask = process.umask(0o111);
      try {
        server.listen(address, () => {
          server.off("error", reject);
          resolve();
        });
      } finally {
        process.umask(previousUmask);
      }
    });
    server.on("error", (error) => deps.logger.error({ err: error, sandboxID }, "gateway socket failed"));
    return { socketPath, server };
  };

  const stop = async ({ socketPath, server }: Listener): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await unlink(socketPath).catch(() => undefined);
  };

  const close = async (sandboxID: string): Promise<void> => {
    const listener = listeners.get(sandboxID);
    if (!listener) return;
    listeners.delete(sandboxID);
    const started = await listener.catch(() => undefined);
    if (started) await stop(started);
  };

  return {
    async open(sandboxID) {
      let listener = listeners.get(sandboxID);
      if (!listener) {
        listener = start(sandboxID);
        listeners.set(sandboxID, listener);
        listener.catch(() => {
          if (listeners.get(sandboxID) === listener) listeners.delete(sandboxID);
        });
      }
      return (await listener).socketPath;
    },

    close,

    async closeAll() {
      await Promise.all([...listeners.keys()].map((sandboxID) => close(sandboxID)));
      forwarder.close();
    },
  };
}
