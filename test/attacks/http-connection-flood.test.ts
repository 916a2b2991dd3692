import { execFileSync, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startAttackServer, type AttackServer } from "./http-attack-server.js";

const floodCount = 10_000;
const floodDeadlineMs = 30_000;
/** The flood comes from another loopback address than the health checks; both go to the server's 127.0.0.1. */
const floodAddress = "127.0.0.2";

const floodClient = fileURLToPath(new URL("./http-flood-client.mjs", import.meta.url));

/** Runs the flood in its own process; resolves with what it opened and what the server still holds open. */
function flood(url: string): { done: Promise<{ opened: number; held: number }>; stop(): void } {
  const child = spawn(process.execPath, [floodClient, url, String(floodCount), floodAddress, String(floodDeadlineMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const done = new Promise<{ opened: number; held: number }>((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("\n")) resolve(JSON.parse(output));
    });
    child.once("exit", (code) => reject(new Error(`the flood client exited with ${code}`)));
  });
  return { done, stop: () => child.kill("SIGKILL") };
}

async function timedHealth(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(5000) });
  expect(response.status).toBe(200);
  await response.json();
  return performance.now() - started;
}

describe("a flood of half-open connections from one address", () => {
  let server: AttackServer;

  beforeAll(async () => {
    server = await startAttackServer({ CIAB_SERVER_HEADERS_TIMEOUT_SECONDS: "2" });
    execFileSync("prlimit", ["--pid", String(server.pid), "--nofile=8192:8192"]);
  });
  afterAll(async () => server?.close());

  test("does not keep another client's health check from answering within 2 s", async () => {
    const latencies: number[] = [];
    const openFiles = () => readdirSync(`/proc/${server.pid}/fd`).length;
    const filesBefore = openFiles();
    const started = performance.now();
    const attack = flood(server.url);
    let flooding = true;
    void attack.done.finally(() => (flooding = false));
    try {
      while (flooding && performance.now() - started < floodDeadlineMs) {
        latencies.push(await timedHealth(server.url));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const { opened, held } = await attack.done;
      const serverHeld = openFiles() - filesBefore;
      // The flood's survivors are still open and silent: the server must answer others all the same.
      for (let check = 0; check < 5; check++) latencies.push(await timedHealth(server.url));
      console.log(
        `${opened} half-open connections in ${Math.round(performance.now() - started)} ms; ${held} open or queued, ${serverHeld} held by the server; ` +
          `health checks: ${latencies.length}, slowest ${Math.round(Math.max(...latencies))} ms`,
      );
      expect(opened).toBe(floodCount);
      expect(serverHeld).toBeLessThanOrEqual(1024 + 16);
      expect(Math.max(...latencies)).toBeLessThan(2000);
    } finally {
      attack.stop();
    }
  });

  test("the address may connect again once its connections closed", async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answer = await new Promise<string>((resolve, reject) => {
      const url = new URL(server.url);
      const socket = net.connect({ host: url.hostname, port: Number(url.port), localAddress: floodAddress });
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
      socket.once("connect", () => socket.write("GET /api/v1/health HTTP/1.1\r\nHost: again\r\nConnection: close\r\n\r\n"));
      socket.once("end", () => resolve(text));
      socket.once("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
  });

  test("a request head that never ends is answered 408 and closed", async () => {
    const url = new URL(server.url);
    const started = performance.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port) });
      let text = "";
      socket.once("connect", () => socket.write("GET /api/v1/health HTTP/1.1\r\nHost: slow\r\n"));
      socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
      socket.once("close", () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('"code":"request_timeout"');
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
