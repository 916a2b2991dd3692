import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * A client whose token is revoked while it is attached ignores the server's close frame and keeps typing:
 * nothing it sends after the revoke may reach the process.
 */
let server: TestServer;
let owner: string;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } });
  owner = (await server.api("POST", "/workspaces", { name: "team-revoke", role: "admin" })).body.token;
});

afterAll(async () => {
  await server?.close();
});

/** A WebSocket handshake by hand, so that the client answers no close frame. */
async function rawAttach(path: string, token: string): Promise<Socket> {
  const { hostname, port } = new URL(server.url);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`,
  );
  const head = await new Promise<string>((resolve) => socket.once("data", (chunk: Buffer) => resolve(chunk.toString("latin1"))));
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  socket.on("data", () => undefined);
  socket.on("error", () => undefined);
  return socket;
}

/** One masked binary frame (a zero mask leaves the payload as it is). */
function binaryFrame(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

test("stdin sent after the token was revoked, by a client that ignores the close frame, never reaches the process", async () => {
  const attacker = (await server.api("POST", "/tokens", { name: "leaver" }, { token: owner })).body;
  const sandbox = (await server.api("POST", "/sandboxes", { runtime: "local" }, { token: owner })).body;
  const started = await server.api("POST", `/sandboxes/${sandbox.id}/processes`, { command: ["sh", "-c", "cat > typed.txt"] }, { token: owner });
  expect(started.status).toBe(201);
  const socket = await rawAttach(`/api/v1/sandboxes/${sandbox.id}/processes/${started.body.pid}/attach`, attacker.token);
  socket.write(binaryFrame(Buffer.from("before\n")));
  await sleep(300);

  expect((await server.api("DELETE", `/tokens/${attacker.id}`, undefined, { token: owner })).status).toBe(200);
  await sleep(200);
  for (let index = 0; index < 5; index += 1) socket.write(binaryFrame(Buffer.from(`after ${index}\n`)));
  await sleep(1_000);

  const typed = await server.api("POST", `/sandboxes/${sandbox.id}/exec`, { command: ["cat", "typed.txt"] }, { token: owner });
  expect(typed.body.stdout).toContain("before");
  expect(typed.body.stdout).not.toContain("after");
  socket.destroy();
  await server.api("DELETE", `/sandboxes/${sandbox.id}`, undefined, { token: owner });
});
