import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } });
  token = (await server.api("POST", "/workspaces", { name: "team-attach", role: "member" })).body.token;
});

afterAll(async () => {
  await server?.close();
});

test("stdin sent over an attach socket to a process that never reads it waits in the client, not in the server", async () => {
  const sandbox = await server.api("POST", "/sandboxes", { runtime: "local" }, { token });
  expect(sandbox.status).toBe(201);
  const started = await server.api("POST", `/sandboxes/${sandbox.body.id}/processes`, { command: ["sleep", "60"] }, { token });
  expect(started.status).toBe(201);
  const url = `${server.url.replace(/^http/, "ws")}/api/v1/sandboxes/${sandbox.body.id}/processes/${started.body.pid}/attach`;
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const sentMB = 64;
  for (let index = 0; index < sentMB; index += 1) socket.send(chunk, { binary: true });
  // An unbounded server reads everything at once; a bounded one leaves most of it unsent in the client.
  await sleep(2_000);
  expect(socket.bufferedAmount).toBeGreaterThan((sentMB / 2) * chunk.length);
  socket.terminate();
  await server.api("DELETE", `/sandboxes/${sandbox.body.id}`, undefined, { token });
});
