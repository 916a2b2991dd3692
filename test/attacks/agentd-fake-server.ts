import { rmSync } from "node:fs";
import http2, { type ServerHttp2Stream } from "node:http2";
import net from "node:net";

/** How the fake answers one route: it gets the raw HTTP/2 stream and may do anything with it. */
export type FakeHandler = (stream: ServerHttp2Stream, path: string) => void;

/** How the fake answers a raw connection (a raw write or tunnel): its socket, with the first bytes read. */
export type FakeRawHandler = (socket: net.Socket, first: Buffer) => void;

/**
 * An HTTP/2 server on a unix socket standing in for a sandbox's agentd: it says it serves `sandboxID` (so
 * the control plane accepts the connection) and answers every other route as the test's handler says.
 */
export interface FakeAgentd {
  handle(route: string, handler: FakeHandler): void;
  /** Takes connections that start with `greeting` (`CIAB-WRITE `, `CIAB-CONNECT `); none: HTTP/2 gets them. */
  handleRaw(greeting: string, handler: FakeRawHandler | undefined): void;
  close(): Promise<void>;
}

export async function startFakeAgentd(socketPath: string, sandboxID: string): Promise<FakeAgentd> {
  const handlers = new Map<string, FakeHandler>();
  const rawHandlers = new Map<string, FakeRawHandler>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<net.Socket>();
  const http2Server = http2.createServer();
  // Like agentd, one socket for both: the first bytes say whether a connection is raw or HTTP/2.
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.once("data", (first: Buffer) => {
      socket.pause();
      for (const [greeting, handler] of rawHandlers) {
        if (first.subarray(0, greeting.length).toString("latin1") === greeting) return handler(socket, first);
      }
      socket.unshift(first);
      http2Server.emit("connection", socket);
    });
  });
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", () => undefined);
  });
  http2Server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    const path = String(headers[":path"]);
    const route = path.split("?")[0]!;
    if (route === "/v1/health") {
      stream.respond({ ":status": 200, "content-type": "application/json" });
      stream.end(JSON.stringify({ agent: "ciab-agentd", version: "fake", pid: process.pid, workspaceRoot: "/workspace", sandboxID }));
      return;
    }
    const handler = handlers.get(route);
    if (!handler) {
      stream.respond({ ":status": 404, "content-type": "application/json" });
      stream.end(JSON.stringify({ error: { code: "not_found", message: `the fake has no ${route}` } }));
      return;
    }
    // Drain whatever the control plane sends, so its request never waits on our window.
    stream.resume();
    handler(stream, path);
  });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    handle: (route, handler) => void handlers.set(route, handler),
    handleRaw: (greeting, handler) => void (handler ? rawHandlers.set(greeting, handler) : rawHandlers.delete(greeting)),
    async close() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers 200 (unless the handler already did) and writes `piece` forever, with flow control: only as fast as the peer reads, until the stream goes. */
export function answerForever(stream: ServerHttp2Stream, head: string, piece: Buffer): void {
  if (!stream.headersSent) stream.respond({ ":status": 200, "content-type": "application/json" });
  stream.write(head);
  const pump = (): void => {
    while (!stream.destroyed && !stream.closed) {
      if (!stream.write(piece)) return void stream.once("drain", pump);
    }
  };
  pump();
}
