import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import { agentdBundlePath } from "../../scripts/bundle.mjs";

/** A real agentd (the bundle) on a unix socket in a temp dir, for tests. */
export interface RunningAgentd {
  directory: string;
  socketPath: string;
  workspaceRoot: string;
  readonly pid: number;
  connect(): Promise<Duplex>;
  /** Kills agentd and starts a new one on the same socket and root. */
  restart(): Promise<void>;
  /** Peak and current resident memory of agentd, in KiB. */
  memoryKiB(): Promise<{ rss: number; peak: number }>;
  /** Sends SIGTERM, waits for the exit and removes the temp dir; resolves with agentd's exit code. */
  stop(): Promise<number | null>;
}

export function connectUnixSocket(socketPath: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

function launch(socketPath: string, workspaceRoot: string): Promise<ChildProcess> {
  const stateDirectory = path.join(path.dirname(socketPath), "state");
  const args = [agentdBundlePath, "--socket", socketPath, "--workspace-root", workspaceRoot, "--state-dir", stateDirectory];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready\n")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`agentd exited with ${code} before ready: ${output}`)));
  });
}

function terminate(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

export async function startAgentd(): Promise<RunningAgentd> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "ciab-agentd-"));
  const socketPath = path.join(directory, "a.sock");
  const workspaceRoot = path.join(directory, "ws");
  await mkdir(workspaceRoot);
  let child = await launch(socketPath, workspaceRoot);
  return {
    directory,
    socketPath,
    workspaceRoot,
    get pid() {
      return child.pid!;
    },
    connect: () => connectUnixSocket(socketPath),
    async restart() {
      await terminate(child);
      child = await launch(socketPath, workspaceRoot);
    },
    async memoryKiB() {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      const field = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      return { rss: field("VmRSS"), peak: field("VmHWM") };
    },
    async stop() {
      const code = await terminate(child);
      await rm(directory, { recursive: true, force: true });
      return code;
    },
  };
}
