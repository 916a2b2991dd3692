import { existsSync } from "node:fs";
import path from "node:path";
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

/** 50 bursts of 1,000 numbered lines, 10 ms apart: fast output that is still running when a reader leaves. */
const burstScript = "i=1; while [ $i -le 50 ]; do seq $((i*1000)) $((i*1000+999)); sleep 0.01; i=$((i+1)); done";
const burstOutput = Array.from({ length: 50_000 }, (_, index) => `${index + 1000}\n`).join("");

interface Read {
  bytes: Buffer;
  frames: ExecFrame[];
}

/** Reads stdout from `offset`, checking every frame starts where the previous ended; stops after `limit` bytes. */
async function readFrom(pid: number, offset: number, limit = Number.POSITIVE_INFINITY): Promise<Read> {
  const chunks: Buffer[] = [];
  const frames: ExecFrame[] = [];
  let position = offset;
  for await (const frame of client.processOutput(pid, { follow: true, stdoutOffset: offset })) {
    frames.push(frame);
    if (frame.type !== "stdout") continue;
    expect(frame.offset).toBe(position);
    const data = Buffer.from(frame.data, "base64");
    chunks.push(data);
    position += data.length;
    if (position - offset >= limit) break;
  }
  return { bytes: Buffer.concat(chunks), frames };
}

describe("persisted output", () => {
  test("a reader that leaves mid-stream resumes from its offset with no gap or duplicate", async () => {
    const started = await client.startProcess({ command: ["sh", "-c", burstScript], persistOutput: true });
    expect(started.persistOutput).toBe(true);
    const first = await readFrom(started.pid, 0, 40_000);
    expect(first.frames[0]).toEqual({ type: "start", pid: started.pid });
    expect((await client.getProcess(started.pid)).running).toBe(true);
    // Several readers rejoin at once while the output is still pouring in.
    const resumed = await Promise.all([readFrom(started.pid, first.bytes.length), readFrom(started.pid, 12_345)]);
    expect(Buffer.concat([first.bytes, resumed[0].bytes]).toString()).toBe(burstOutput);
    expect(resumed[1].bytes.toString()).toBe(burstOutput.slice(12_345));
    expect(resumed[0].frames.at(-1)).toMatchObject({ type: "exit", exitCode: 0 });
    expect(existsSync(path.join(agentd.directory, "state", `${started.pid}.stdout`))).toBe(true);
  });

  test("after the exit, any offset replays from disk and ends with the exit frame", async () => {
    const started = await client.startProcess({ command: ["sh", "-c", "printf 0123456789; exit 4"], persistOutput: true });
    let exit: ExecFrame | undefined;
    for await (const frame of client.processOutput(started.pid, { follow: true })) if (frame.type === "exit") exit = frame;
    expect(exit).toMatchObject({ exitCode: 4 });
    const middle = await readFrom(started.pid, 6);
    expect(middle.bytes.toString()).toBe("6789");
    expect(middle.frames.map((frame) => frame.type)).toEqual(["start", "stdout", "exit"]);
    const past = await readFrom(started.pid, 100);
    expect(past.frames.map((frame) => frame.type)).toEqual(["start", "exit"]);
  });

  test("an offset ahead of the output waits for the bytes at that offset", async () => {
    const started = await client.startProcess({ command: ["sh", "-c", "printf abc; sleep 0.3; printf defgh"], persistOutput: true });
    const ahead = await readFrom(started.pid, 5);
    expect(ahead.bytes.toString()).toBe("fgh");
  });

  test("offsets need persistOutput", async () => {
    const started = await client.startProcess({ command: ["true"] });
    const reading = readFrom(started.pid, 0);
    await expect(reading).rejects.toMatchObject({ code: "invalid_state" });
  });
});

describe("pty processes", () => {
  const decodeAll = (frames: ExecFrame[]): string =>
    frames.map((frame) => (frame.type === "stdout" ? Buffer.from(frame.data, "base64").toString() : "")).join("");

  async function waitForOutput(pid: number, pattern: RegExp): Promise<string> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const frames: ExecFrame[] = [];
      for await (const frame of client.processOutput(pid, { follow: false })) frames.push(frame);
      const text = decodeAll(frames);
      if (pattern.test(text)) return text;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no ${pattern} in the output of ${pid}`);
  }

  test("runs on a terminal of the asked size, echoes input, resizes, passes the exit code", async () => {
    const started = await client.startProcess({
      command: ["sh", "-c", 'stty size; echo "term=$TERM"; [ -t 0 ] && echo tty; read line; echo "got:$line"; stty size; exit 3'],
      pty: { cols: 100, rows: 30 },
    });
    expect(started.pty).toEqual({ cols: 100, rows: 30 });
    await waitForOutput(started.pid, /30 100\r\nterm=xterm-256color\r\ntty\r\n/);
    const resized = await client.resizeProcess(started.pid, { cols: 132, rows: 50 });
    expect(resized.pty).toEqual({ cols: 132, rows: 50 });
    await client.writeStdin(started.pid, "hello\r");
    const frames: ExecFrame[] = [];
    for await (const frame of client.processOutput(started.pid, { follow: true })) frames.push(frame);
    const text = decodeAll(frames);
    expect(text).toContain("hello\r\n"); // the terminal's echo
    expect(text).toContain("got:hello\r\n50 132\r\n");
    expect(frames.at(-1)).toMatchObject({ type: "exit", exitCode: 3 });
  });

  test("an interactive bash on a pty keeps the prompt and SHELL of its environment, whatever SHELL says", async () => {
    const started = await client.startProcess({
      command: ["bash", "--norc", "--noprofile", "-i"],
      env: { SHELL: "/bin/bash", PS1: "pty-prompt> " },
      pty: { cols: 80, rows: 24 },
    });
    await waitForOutput(started.pid, /pty-prompt> $/);
    await client.writeStdin(started.pid, 'echo "shell=$SHELL"; exit 4\r');
    let text = "";
    for await (const frame of client.processOutput(started.pid, { follow: true })) text += decodeAll([frame]);
    expect(text).toContain("shell=/bin/bash\r\n");
  });

  test("Ctrl-C through stdin interrupts the foreground program", async () => {
    const started = await client.startProcess({ command: ["sh", "-c", "echo ready; sleep 30"], pty: { cols: 80, rows: 24 } });
    await waitForOutput(started.pid, /ready/);
    await client.writeStdin(started.pid, "\x03");
    let exit: ExecFrame | undefined;
    for await (const frame of client.processOutput(started.pid, { follow: true })) if (frame.type === "exit") exit = frame;
    expect(exit).toMatchObject({ type: "exit" });
    expect(exit?.type === "exit" && exit.durationMs).toBeLessThan(10_000);
  });

  test("resize refuses a process without a pty", async () => {
    const started = await client.startProcess({ command: ["sleep", "5"] });
    await expect(client.resizeProcess(started.pid, { cols: 10, rows: 10 })).rejects.toMatchObject({ code: "invalid_state" });
    await client.signalProcess(started.pid, "SIGKILL");
  });
});
