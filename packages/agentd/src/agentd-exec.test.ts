import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createAgentClient, type AgentClient } from "../../server/src/agent-channel/agent-client.js";
import type { ExecFrame } from "./protocol.js";
import { startAgentd, type RunningAgentd } from "./testing/start-agentd.js";

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

const decode = (frames: ExecFrame[], type: "stdout" | "stderr"): string =>
  frames.map((frame) => (frame.type === type ? Buffer.from(frame.data, "base64").toString() : "")).join("");

async function collect(frames: AsyncIterable<ExecFrame>): Promise<ExecFrame[]> {
  const collected: ExecFrame[] = [];
  for await (const frame of frames) collected.push(frame);
  return collected;
}

const errorCode = (promise: Promise<unknown>) => promise.then(() => "ok", (error: { code?: string }) => error.code);

describe("exec", () => {
  test("answers health", async () => {
    const health = await client.health();
    expect(health).toMatchObject({ agent: "ciab-agentd", pid: agentd.pid, workspaceRoot: agentd.workspaceRoot });
  });

  test("captures stdout, stderr and a non-zero exit", async () => {
    const result = await client.exec({ command: ["sh", "-c", "echo out; echo err >&2; exit 3"] });
    expect(result).toMatchObject({ exitCode: 3, signal: null, stdout: "out\n", stderr: "err\n", timedOut: false, truncated: false });
  });

  test("passes env, stdin and a cwd mapped into the workspace", async () => {
    await client.mkdir({ path: "sub/dir", parents: true });
    const result = await client.exec({
      command: ["sh", "-c", 'printf "%s|" "$GREETING" "$PWD"; cat'],
      env: { GREETING: "hello" },
      cwd: "/workspace/sub/dir",
      stdin: "from stdin",
    });
    expect(result.stdout).toBe(`hello|${agentd.workspaceRoot}/sub/dir|from stdin`);
    expect((await client.exec({ command: ["pwd"] })).stdout.trim()).toBe(agentd.workspaceRoot);
  });

  test("kills the process group on timeout", async () => {
    const started = performance.now();
    const result = await client.exec({ command: ["sh", "-c", "sleep 30 & sleep 30"], timeoutMs: 200 });
    expect(result).toMatchObject({ timedOut: true, signal: "SIGKILL", exitCode: null });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("does not wait for a background child that keeps the output pipes open", async () => {
    const started = performance.now();
    const result = await client.exec({ command: ["sh", "-c", "sleep 3 & echo done"] });
    expect(result).toMatchObject({ exitCode: 0, stdout: "done\n" });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("answers command_not_found for a missing binary and file_not_found for a missing cwd", async () => {
    expect(await errorCode(client.exec({ command: ["ciab-no-such-binary"] }))).toBe("command_not_found");
    expect(await errorCode(client.exec({ command: ["true"], cwd: "missing" }))).toBe("file_not_found");
    expect(await errorCode(client.exec({ command: ["true"], cwd: "/etc" }))).toBe("path_outside_sandbox");
    expect(await errorCode(client.exec({ command: [] }))).toBe("invalid_request");
  });

  test("streams frames in order: start, output, exit last", async () => {
    const frames = await collect(client.execStream({ command: ["sh", "-c", "echo one; echo two >&2; sleep 0.05; echo three"] }));
    expect(frames[0]).toMatchObject({ type: "start" });
    expect(frames.at(-1)).toMatchObject({ type: "exit", exitCode: 0, timedOut: false });
    expect(decode(frames, "stdout")).toBe("one\nthree\n");
    expect(decode(frames, "stderr")).toBe("two\n");
    expect(await errorCode(collect(client.execStream({ command: ["ciab-no-such-binary"] })))).toBe("command_not_found");
  });

  test("delivers streamed output before the command ends", async () => {
    const started = performance.now();
    for await (const frame of client.execStream({ command: ["sh", "-c", "echo early; sleep 2"] })) {
      if (frame.type === "stdout") break; // leaving the loop cancels the stream and kills the command
    }
    expect(performance.now() - started).toBeLessThan(1500);
  });

  test("kills the command when the client cancels the stream", async () => {
    const controller = new AbortController();
    let pid = 0;
    const consumed = (async () => {
      for await (const frame of client.execStream({ command: ["sleep", "30"] }, controller.signal)) {
        if (frame.type === "start") {
          pid = frame.pid;
          controller.abort();
        }
      }
    })();
    await expect(consumed).rejects.toThrow();
    await expect.poll(() => isAlive(pid), { timeout: 3000 }).toBe(false);
  });
});

describe("background processes", () => {
  test("start, list, output replay and follow, stdin, signal", async () => {
    const info = await client.startProcess({ command: ["sh", "-c", 'echo started; while read line; do echo "got $line"; done'], tag: "echoer" });
    expect(info).toMatchObject({ running: true, tag: "echoer", command: ["sh", "-c", expect.any(String)] });
    expect((await client.listProcesses()).map((process) => process.pid)).toContain(info.pid);

    const followed: ExecFrame[] = [];
    const following = (async () => {
      for await (const frame of client.processOutput(info.pid, { follow: true })) followed.push(frame);
    })();
    expect(await client.writeStdin(info.pid, "ping\n")).toEqual({ written: 5 });
    await expect.poll(() => decode(followed, "stdout")).toBe("started\ngot ping\n");

    const signalled = await client.signalProcess(info.pid, "SIGTERM");
    expect(signalled.pid).toBe(info.pid);
    await following;
    expect(followed[0]).toEqual({ type: "start", pid: info.pid });
    expect(followed.at(-1)).toMatchObject({ type: "exit", signal: "SIGTERM" });

    const exited = await client.getProcess(info.pid);
    expect(exited).toMatchObject({ running: false, signal: "SIGTERM" });
    const replay = await collect(client.processOutput(info.pid, { follow: false }));
    expect(decode(replay, "stdout")).toBe("started\ngot ping\n");
    expect(replay.at(-1)).toMatchObject({ type: "exit" });
    expect(await errorCode(client.signalProcess(info.pid, "SIGKILL"))).toBe("invalid_state");
  });

  test("unknown pids are process_not_found", async () => {
    expect(await errorCode(client.getProcess(999_999_999))).toBe("process_not_found");
    expect(await errorCode(client.writeStdin(999_999_999, "x"))).toBe("process_not_found");
  });
});

describe("ports", () => {
  test("lists a TCP port a sandbox process listens on", async () => {
    const server = net.createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const ports = await client.ports();
      expect(ports).toContainEqual({ port, address: "127.0.0.1", family: "ipv4" });
      const keys = ports.map((entry) => `${entry.family}|${entry.address}|${entry.port}`);
      expect(new Set(keys).size).toBe(keys.length);
    } finally {
      server.close();
    }
  });

  test("sees a port opened by a node process started through agentd", async () => {
    const info = await client.startProcess({
      command: [process.execPath, "-e", 'const s = require("net").createServer().listen(0, "127.0.0.1", () => console.log(s.address().port))'],
    });
    try {
      let port = 0;
      for await (const frame of client.processOutput(info.pid, { follow: true })) {
        if (frame.type === "stdout") {
          port = Number(Buffer.from(frame.data, "base64").toString().trim());
          break;
        }
      }
      expect(await client.ports()).toContainEqual({ port, address: "127.0.0.1", family: "ipv4" });
    } finally {
      await client.signalProcess(info.pid, "SIGKILL");
    }
  });
});

describe("shutdown", () => {
  test("SIGTERM ends agentd with status 0 and its background processes with it", async () => {
    const own = await startAgentd();
    const ownClient = createAgentClient({ connect: () => own.connect() });
    const info = await ownClient.startProcess({ command: ["sleep", "30"] });
    ownClient.close();
    expect(await own.stop()).toBe(0);
    await expect.poll(() => isAlive(info.pid), { timeout: 3000 }).toBe(false);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
