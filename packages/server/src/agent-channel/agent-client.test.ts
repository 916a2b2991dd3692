import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { agentdBundlePath } from "../../../agentd/scripts/bundle.mjs";
import { connectUnixSocket, startAgentd, type RunningAgentd } from "../../../agentd/src/testing/start-agentd.js";
import { createAgentClient, waitForAgent, type AgentClient } from "./agent-client.js";

let agentd: RunningAgentd;
let client: AgentClient;

beforeAll(async () => {
  agentd = await startAgentd();
  client = createAgentClient({ connect: () => agentd.connect() });
});

afterAll(async () => {
  client.close();
  await agentd.stop();
});

describe("agent client", () => {
  test("reconnects after agentd restarts on the same socket", async () => {
    const first = await client.health();
    await agentd.restart();
    const second = await client.health();
    expect(second.pid).not.toBe(first.pid);
    expect((await client.exec({ command: ["echo", "back"] })).stdout).toBe("back\n");
  });

  test("maps a dead socket to a retryable agent_unreachable", async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), "ciab-client-"));
    const lonely = createAgentClient({ connect: () => connectUnixSocket(path.join(directory, "none.sock")) });
    try {
      await expect(lonely.health()).rejects.toMatchObject({ code: "agent_unreachable", retryable: true });
      const started = performance.now();
      await expect(waitForAgent(lonely, { timeoutMs: 100 })).rejects.toMatchObject({ code: "agent_unreachable" });
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      lonely.close();
      await rm(directory, { recursive: true, force: true });
    }
  });

  test("waitForAgent returns as soon as a late agentd answers", async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), "ciab-client-"));
    const socketPath = path.join(directory, "late.sock");
    const late = createAgentClient({ connect: () => connectUnixSocket(socketPath) });
    const waiting = waitForAgent(late, { timeoutMs: 10_000 });
    const child = spawn(process.execPath, [agentdBundlePath, "--socket", socketPath, "--workspace-root", directory], { stdio: "ignore" });
    try {
      await waiting;
      expect((await late.health()).pid).toBe(child.pid);
    } finally {
      late.close();
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      await rm(directory, { recursive: true, force: true });
    }
  });

  test("an aborted signal cancels the call", async () => {
    const controller = new AbortController();
    const call = client.exec({ command: ["sleep", "30"] }, controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
    expect((await client.health()).agent).toBe("ciab-agentd"); // the session survives
  });

  test("runs many calls concurrently on one session", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, index) => client.exec({ command: ["echo", String(index)] })));
    expect(results.map((result) => result.stdout)).toEqual(Array.from({ length: 50 }, (_, index) => `${index}\n`));
  });

  test("exec true p50 (printed, not asserted)", async () => {
    const percentile = (values: number[], fraction: number): string =>
      [...values].sort((left, right) => left - right)[Math.floor(values.length * fraction)]!.toFixed(2);
    const time = async (call: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await call();
      return performance.now() - started;
    };
    const rawSpawn = (): Promise<unknown> =>
      new Promise((resolve) => spawn("true", [], { stdio: ["ignore", "pipe", "pipe"] }).once("close", resolve));
    for (let index = 0; index < 20; index += 1) await client.exec({ command: ["true"] });
    // Interleaved, so load from anything else on the machine hits both series alike.
    const exec: number[] = [];
    const raw: number[] = [];
    const health: number[] = [];
    for (let index = 0; index < 200; index += 1) {
      exec.push(await time(() => client.exec({ command: ["true"] })));
      raw.push(await time(rawSpawn));
      health.push(await time(() => client.health()));
    }
    console.log(
      `agent channel: exec ["true"] p50 ${percentile(exec, 0.5)} ms (p90 ${percentile(exec, 0.9)}); ` +
        `raw spawn in this process p50 ${percentile(raw, 0.5)} ms; health p50 ${percentile(health, 0.5)} ms`,
    );
  });
});
