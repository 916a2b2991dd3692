import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startGatewayRelay, type GatewayRelay } from "./gateway-relay.js";

let directory: string;
let socketPath: string;
let backend: net.Server;
let relay: GatewayRelay;

/** Reads everything a connection sends until it ends, after writing `input` and half-closing. */
function exchange(port: number, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let output = "";
    socket.on("data", (chunk) => (output += String(chunk)));
    socket.once("end", () => {
      socket.end();
      resolve(output);
    });
    socket.once("error", reject);
    socket.end(input);
  });
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "ciab-relay-"));
  socketPath = path.join(directory, "gateway.sock");
  // Answers only after the client half-closed: proves the relay passes the half-close on and keeps reading.
  backend = net.createServer({ allowHalfOpen: true }, (socket) => {
    let input = "";
    socket.on("data", (chunk) => (input += String(chunk)));
    socket.once("end", () => socket.end(`echo:${input}`));
  });
  await new Promise<void>((resolve) => backend.listen(socketPath, resolve));
  relay = await startGatewayRelay({ socketPath, port: 0 });
});

afterAll(async () => {
  await relay.close();
  await new Promise((resolve) => backend.close(resolve));
  await rm(directory, { recursive: true, force: true });
});

test("relays bytes both ways and passes a half-close on", async () => {
  expect(relay.port).toBeGreaterThan(0);
  const big = "x".repeat(1024 * 1024);
  expect(await exchange(relay.port, "hello")).toBe("echo:hello");
  expect(await exchange(relay.port, big)).toBe(`echo:${big}`);
});

test("a missing socket answers the client by closing", async () => {
  const orphan = await startGatewayRelay({ socketPath: path.join(directory, "missing.sock"), port: 0 });
  try {
    expect(await exchange(orphan.port, "hello").catch(() => "closed")).toMatch(/^(|closed)$/);
  } finally {
    await orphan.close();
  }
});
