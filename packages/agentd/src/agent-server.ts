import { chmod, unlink } from "node:fs/promises";
import http2 from "node:http2";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import { createArchiveHandlers } from "./handlers/archive-handler.js";
import { createExecHandlers } from "./handlers/exec-handler.js";
import { createFileHandlers } from "./handlers/file-handler.js";
import { createHealthHandler } from "./handlers/health-handler.js";
import { createPortConnectHandler } from "./handlers/port-connect-handler.js";
import { createPortHandler } from "./handlers/port-handler.js";
import { createConnectionRouter } from "./handlers/connection-router.js";
import { createProcessHandlers } from "./handlers/process-handler.js";
import { respondError } from "./http/respond.js";
import { spliceSocket, wholeWrites } from "./protocol.js";
import { createRouter } from "./router.js";
import { ArchiveService } from "./services/archive-service.js";
import { CommandRunner } from "./services/command-runner.js";
import { ExecService } from "./services/exec-service.js";
import { FileService } from "./services/file-service.js";
import { PathResolver } from "./services/path-resolver.js";
import { PortConnector } from "./services/port-connector.js";
import { PortService } from "./services/port-service.js";
import { ProcessService } from "./services/process-service.js";

export interface AgentServerOptions {
  /** The real directory that /workspace maps to. */
  workspaceRoot: string;
  /** Where agentd keeps persisted process output; defaults to `.ciab-agentd` in the temp dir. */
  stateDirectory?: string;
  /** Terse diagnostics; agentd's main passes a stderr writer. */
  log?: (message: string) => void;
  /** The loopback port of the model gateway relay, when main started one; reported by /v1/health. */
  gatewayPort?: number | undefined;
  /** The sandbox this agentd serves, reported by /v1/health so the control plane can tell agents apart. */
  sandboxID?: string | undefined;
}

export interface AgentServer {
  /** Serves the agent channel (HTTP/2, cleartext) on any duplex: a socket, an SSH channel, a WebSocket stream. */
  serveAgentConnection(duplex: Duplex): void;
  /** Listens on a unix socket, replacing a stale socket file. */
  listen(socketPath: string): Promise<void>;
  /** Stops listening, ends every connection and signals running background processes. */
  close(): Promise<void>;
}

/** Flow-control windows large enough that a file upload is not throttled to a round trip per 64 KiB. */
const streamWindowBytes = 8 * 1024 * 1024;
const sessionWindowBytes = 32 * 1024 * 1024;

export async function createAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const log = options.log ?? (() => undefined);
  const paths = await PathResolver.create(options.workspaceRoot);
  const runner = new CommandRunner(paths);
  const stateDirectory = options.stateDirectory ?? path.join(os.tmpdir(), ".ciab-agentd");
  const processes = new ProcessService(runner, { stateDirectory });
  const files = new FileService(paths);
  const route = createRouter({
    health: createHealthHandler(paths.root, options.gatewayPort, options.sandboxID),
    exec: createExecHandlers(new ExecService(runner)),
    processes: createProcessHandlers(processes),
    files: createFileHandlers(files),
    ports: createPortHandler(new PortService()),
    archive: createArchiveHandlers(new ArchiveService(runner)),
  });

  const connector = new PortConnector();
  const connectPort = createPortConnectHandler(connector);

  const http2Server = http2.createServer({
    // Large frames: an upload streams hundreds of MB to agentd, 16 KiB frames cost CPU per frame.
    settings: { maxConcurrentStreams: 4096, initialWindowSize: streamWindowBytes, maxFrameSize: 256 * 1024 },
    maxSessionMemory: 64,
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", (error) => log(`session error: ${error.message}`));
    session.once("connect", () => session.setLocalWindowSize(sessionWindowBytes));
  });
  http2Server.on("stream", (stream, headers) => {
    wholeWrites(stream);
    stream.on("error", () => undefined); // resets by the peer surface as 'close'; nothing to report
    const controller = new AbortController();
    stream.once("close", () => controller.abort());
    if (headers[":method"] === "CONNECT") {
      connectPort(stream, headers).catch((error: unknown) => respondError(stream, error));
      return;
    }
    const fullPath = headers[":path"] ?? "/";
    const queryStart = fullPath.indexOf("?");
    const path = queryStart === -1 ? fullPath : fullPath.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? "" : fullPath.slice(queryStart + 1));
    try {
      const { handler, pid } = route(headers[":method"] ?? "GET", path);
      handler({ stream, headers, query, pid, signal: controller.signal }).catch((error: unknown) => respondError(stream, error));
    } catch (error) {
      respondError(stream, error);
    }
  });

  const routeConnection = createConnectionRouter(connector, files, options.sandboxID, (socket) => http2Server.emit("connection", socket));
  const netServer = net.createServer(routeConnection);

  let listeningPath: string | undefined;
  return {
    serveAgentConnection(duplex) {
      // Through agentd's own socket when it has one, so that HTTP/2 runs over a native socket (Node's HTTP/2
      // over any other stream can throw from a native callback: nativeSocketFor on the control plane's side
      // says how); raw tunnels are routed there as on any connection.
      if (listeningPath === undefined) routeConnection(duplex);
      else spliceSocket(net.connect(listeningPath), duplex);
    },

    async listen(socketPath) {
      listeningPath = socketPath;
      await unlink(socketPath).catch(() => undefined);
      await new Promise<void>((resolve, reject) => {
        netServer.once("error", reject);
        netServer.listen(socketPath, () => {
          netServer.off("error", reject);
          resolve();
        });
      });
      await chmod(socketPath, 0o666);
    },

    async close() {
      processes.killAll("SIGTERM");
      const closed = new Promise<void>((resolve) => netServer.close(() => resolve()));
      for (const session of sessions) session.destroy();
      http2Server.close();
      await closed;
    },
  };
}
