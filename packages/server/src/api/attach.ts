import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { createRoute, z } from "@hono/zod-openapi";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { CiabError, type AttachControlMessage, type ExecFrame } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import type { AuthService, Principal } from "../services/auth-service.js";
import type { ExecService, StartedFrames } from "../services/exec-service.js";
import { createRouter } from "./api-env.js";
import { errorResponses } from "./schemas.js";
import { processParams } from "./exec.js";

/**
 * Attach to a process over WebSocket: binary messages are raw bytes both ways (client → stdin, output →
 * client, what agentd kept replayed first); text messages are JSON control messages (`resize` from the
 * client; `exit` and `error` from the server, which then closes). Closing the socket detaches: the process
 * runs on. The upgrade is served off the Node server's `upgrade` event; the Hono route below only documents
 * it and answers a plain GET.
 */

const attachPath = /^\/api\/v1\/sandboxes\/([^/]+)\/processes\/(\d+)\/attach$/;
const sessionAttachPath = /^\/api\/v1\/sessions\/([^/]+)\/attach$/;
const attachQuery = z.object({
  token: z.string().optional().openapi({ description: "The bearer token, for clients that cannot set headers (browsers)" }),
  cols: z.coerce.number().int().positive().optional().openapi({ description: "Resize the pty to this on attach" }),
  rows: z.coerce.number().int().positive().optional(),
});

const attach = createRoute({
  method: "get",
  path: "/sandboxes/{id}/processes/{pid}/attach",
  summary: "Attach to a process over WebSocket (stdin, output, resize, exit)",
  description:
    "Binary messages: raw bytes, client to stdin and output to client (kept output replayed first). Text messages: " +
    '`{"type":"resize","cols":N,"rows":N}` from the client; `{"type":"exit","exit_code":N,"signal":S}` from the server ' +
    "when the process exits, then a close. Closing the socket leaves the process running.",
  request: { params: processParams, query: attachQuery },
  responses: { 101: { description: "Switching to the WebSocket protocol" }, ...errorResponses },
});

/** The documented route; without an upgrade it can only say how to use it. */
export function attachRoutes() {
  return createRouter().openapi(attach, () => {
    throw new CiabError("invalid_request", "attach needs a WebSocket upgrade (`Upgrade: websocket`)");
  });
}

export interface AttachDependencies {
  auth: AuthService;
  exec: ExecService;
  /** Where a session's agent runs, for `/sessions/{id}/attach`. */
  sessionTarget(principal: Principal, sessionID: string): Promise<{ sandboxID: string; pid: number }>;
  logger: Logger;
}

export interface AttachServer {
  /** The Node server's `upgrade` listener. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every attached socket (the processes run on). */
  close(): void;
}

/** Output waits while this much is queued for a slow client, rather than growing the server's memory. */
const sendBacklogLimitBytes = 4 * 1024 * 1024;
/** Past this much stdin waiting for a process that does not read it, the socket stops being read. */
const stdinBacklogLimitBytes = 1024 * 1024;

export function createAttachServer(dependencies: AttachDependencies): AttachServer {
  const { auth, exec, logger } = dependencies;
  const webSockets = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    const match = attachPath.exec(url.pathname);
    const sessionMatch = sessionAttachPath.exec(url.pathname);
    if (!match && !sessionMatch) throw new CiabError("not_found", `no WebSocket route ${url.pathname}`);
    const queryToken = url.searchParams.get("token");
    const principal = await auth.authenticate(request.headers.authorization ?? (queryToken ? `Bearer ${queryToken}` : undefined));
    const { id, pid } = match
      ? { id: decodeURIComponent(match[1]!), pid: Number(match[2]) }
      : await dependencies
          .sessionTarget(principal, decodeURIComponent(sessionMatch![1]!))
          .then((target) => ({ id: target.sandboxID, pid: target.pid }));
    const size = { cols: Number(url.searchParams.get("cols")), rows: Number(url.searchParams.get("rows")) };
    if (Number.isInteger(size.cols) && Number.isInteger(size.rows) && size.cols > 0 && size.rows > 0) {
      await exec.resizeProcess(principal, id, pid, size).catch((error: unknown) => {
        if (!(error instanceof CiabError && error.code === "invalid_state")) throw error; // not a pty, or exited
      });
    }
    // Subscribed before the upgrade, so a missing sandbox or process is an HTTP error, not a closed socket.
    const abort = new AbortController();
    const frames = await exec.output(principal, id, pid, abort.signal);
    let bridged = false;
    socket.once("close", () => bridged || abort.abort()); // the handshake failed or the client left first
    if (socket.destroyed) return abort.abort();
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      bridged = true;
      bridge(webSocket, { principal, id, pid, frames, abort });
    });
  }

  function bridge(webSocket: WebSocket, session: AttachSession): void {
    const { principal, id, pid, abort } = session;
    // A client's protocol error (unmasked frame, oversized message, bad UTF-8) arrives as an `error` event:
    // unhandled, it would take the whole control plane down. ws closes the socket after it.
    webSocket.on("error", (error) => {
      logger.debug({ err: error, sandboxID: id, pid }, "attach socket error");
      abort.abort();
    });
    // 1008 (policy violation): the token that opened the socket was revoked or expired.
    const unwatch = auth.watch(principal, () => {
      webSocket.close(1008, "token revoked or expired");
      abort.abort();
      // A client that never answers the close frame is cut off, not kept for ws's 30 s close timeout.
      setTimeout(() => webSocket.terminate(), 1_000).unref();
    });
    webSocket.once("close", () => {
      unwatch();
      abort.abort();
    });
    const fail = (error: unknown): void => {
      const ciabError = toCiabError(error);
      sendControl(webSocket, { type: "error", code: ciabError.code, message: ciabError.message, status: ciabError.status });
    };
    let stdin = Promise.resolve();
    let stdinBacklogBytes = 0;
    webSocket.on("message", (data: RawData, isBinary: boolean) => {
      // ws still delivers what arrives after our close frame; once closing, the client's rights are gone.
      if (webSocket.readyState !== webSocket.OPEN) return;
      const bytes = toBuffer(data);
      if (isBinary) {
        stdinBacklogBytes += bytes.length;
        if (stdinBacklogBytes > stdinBacklogLimitBytes) webSocket.pause();
        stdin = stdin
          .then(() => exec.writeStdin(principal, id, pid, bytes).then(() => undefined, fail))
          .finally(() => {
            stdinBacklogBytes -= bytes.length;
            if (stdinBacklogBytes <= stdinBacklogLimitBytes && webSocket.isPaused) webSocket.resume();
          });
        return;
      }
      const message = parseControl(bytes.toString("utf8"));
      if (!message) return fail(new CiabError("invalid_request", 'text messages are {"type":"resize","cols":N,"rows":N}'));
      void exec.resizeProcess(principal, id, pid, message).catch(fail);
    });
    void pumpOutput(webSocket, session).catch((error: unknown) => {
      if (abort.signal.aborted) return;
      logger.debug({ err: error, sandboxID: id, pid }, "attach output broke");
      fail(error);
      webSocket.close(1011, "output stream broke");
    });
  }

  return {
    handleUpgrade(request, socket, head) {
      socket.on("error", () => undefined);
      upgrade(request, socket, head).catch((error: unknown) => {
        const ciabError = toCiabError(error);
        if (ciabError.status >= 500) logger.warn({ err: error, url: request.url?.replace(/token=[^&]*/, "token=…") }, "attach refused");
        refuse(socket, ciabError);
      });
    },
    close() {
      for (const client of webSockets.clients) client.close(1001, "server shutting down");
    },
  };
}

interface AttachSession {
  principal: Principal;
  id: string;
  pid: number;
  frames: StartedFrames;
  abort: AbortController;
}

async function pumpOutput(webSocket: WebSocket, { frames, abort }: AttachSession): Promise<void> {
  const send = async (frame: ExecFrame): Promise<boolean> => {
    if (webSocket.readyState !== webSocket.OPEN) return false;
    if (frame.type === "stdout" || frame.type === "stderr") {
      webSocket.send(Buffer.from(frame.data, "base64"), { binary: true });
      while (webSocket.bufferedAmount > sendBacklogLimitBytes && webSocket.readyState === webSocket.OPEN) await sleep(10);
    } else if (frame.type === "exit") {
      sendControl(webSocket, { type: "exit", exit_code: frame.exitCode, signal: frame.signal });
      webSocket.close(1000, "process exited");
      return false;
    }
    return true;
  };
  if (frames.first && !(await send(frames.first))) return abort.abort();
  for (let next = await frames.rest.next(); !next.done; next = await frames.rest.next()) {
    if (!(await send(next.value))) return abort.abort();
  }
}

function sendControl(webSocket: WebSocket, message: AttachControlMessage): void {
  if (webSocket.readyState === webSocket.OPEN) webSocket.send(JSON.stringify(message));
}

function parseControl(text: string): { cols: number; rows: number } | undefined {
  try {
    const message = JSON.parse(text) as Partial<{ type: unknown; cols: unknown; rows: unknown }>;
    const side = (value: unknown): value is number => Number.isInteger(value) && (value as number) > 0 && (value as number) <= 10_000;
    if (message.type === "resize" && side(message.cols) && side(message.rows)) return { cols: message.cols, rows: message.rows };
  } catch {
    // Not JSON: reported like any other unknown message.
  }
  return undefined;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Answers an upgrade that cannot go ahead with the API's error body, then hangs up. */
function refuse(socket: Duplex, ciabError: CiabError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(ciabError.toBody());
  socket.end(
    `HTTP/1.1 ${ciabError.status} ${ciabError.code}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function toCiabError(error: unknown): CiabError {
  return error instanceof CiabError ? error : new CiabError("internal", String(error), { cause: error });
}
