import {
  CiabError,
  processReplayLimitBytes,
  type ExecFrame,
  type ProcessInfo,
  type SignalRequest,
  type StartProcessRequest,
} from "../protocol.js";
import type { CommandRun, CommandRunner } from "./command-runner.js";
import { ReplayBuffer, toOutputFrame } from "./replay-buffer.js";

/** Exited processes stay listed (with their output) until this many exited after them. */
export const exitedProcessesKept = 100;

export type FrameListener = (frame: ExecFrame) => void;

interface ManagedProcess {
  info: ProcessInfo;
  run: CommandRun;
  replay: ReplayBuffer;
  listeners: Set<FrameListener>;
  exitFrame: Extract<ExecFrame, { type: "exit" }> | undefined;
}

/** What a reader of a process's output gets: what was kept, and live frames until exit when following. */
export interface OutputSubscription {
  /** The start frame, the replayed output and, when the process already exited, its exit frame. */
  replay: ExecFrame[];
  /** True when live frames will follow through the listener. */
  live: boolean;
  unsubscribe(): void;
}

/** Background processes, known by their real pid. */
export class ProcessService {
  readonly #runner: CommandRunner;
  readonly #processes = new Map<number, ManagedProcess>();
  readonly #exitedOrder: number[] = [];

  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  async start(request: StartProcessRequest): Promise<ProcessInfo> {
    const { command, cwd, env } = request;
    const run = await this.#runner.spawn({ command, cwd, env, stdin: "pipe" });
    const info: ProcessInfo = {
      pid: run.pid,
      command: request.command,
      cwd: request.cwd ?? "/workspace",
      startedAt: new Date().toISOString(),
      running: true,
      exitCode: null,
      signal: null,
    };
    if (request.tag !== undefined) info.tag = request.tag;
    const replay = new ReplayBuffer(processReplayLimitBytes);
    const managed: ManagedProcess = { info, run, replay, listeners: new Set(), exitFrame: undefined };
    this.#forget(run.pid);
    this.#processes.set(run.pid, managed);
    const onOutput = (type: "stdout" | "stderr") => (data: Buffer) => {
      managed.replay.push(type, data);
      if (managed.listeners.size === 0) return;
      const frame = toOutputFrame(type, data);
      for (const listener of managed.listeners) listener(frame);
    };
    run.stdout.on("data", onOutput("stdout"));
    run.stderr.on("data", onOutput("stderr"));
    void run.exited.then((exit) => this.#onExit(managed, exit));
    return { ...info };
  }

  list(): ProcessInfo[] {
    return [...this.#processes.values()].map((managed) => ({ ...managed.info }));
  }

  get(pid: number): ProcessInfo {
    return { ...this.#find(pid).info };
  }

  signal(pid: number, signal: SignalRequest["signal"]): ProcessInfo {
    const managed = this.#find(pid);
    if (!managed.run.kill(signal)) {
      throw new CiabError("invalid_state", `process ${pid} has exited`, { context: { pid } });
    }
    return { ...managed.info };
  }

  async writeStdin(pid: number, data: Buffer): Promise<number> {
    const managed = this.#find(pid);
    const stdin = managed.run.stdin;
    if (!stdin || stdin.destroyed || stdin.writableEnded || !managed.info.running) {
      throw new CiabError("invalid_state", `process ${pid} no longer reads stdin`, { context: { pid } });
    }
    await new Promise<void>((resolve, reject) => {
      stdin.write(data, (error) => {
        if (error) reject(new CiabError("invalid_state", `stdin of process ${pid} is closed`, { cause: error }));
        else resolve();
      });
    });
    return data.length;
  }

  /** Replays kept output and, with `follow`, calls `listener` with every later frame up to the exit frame. */
  subscribe(pid: number, follow: boolean, listener: FrameListener): OutputSubscription {
    const managed = this.#find(pid);
    const replay: ExecFrame[] = [{ type: "start", pid }, ...managed.replay.frames()];
    if (managed.exitFrame) replay.push(managed.exitFrame);
    const live = follow && managed.exitFrame === undefined;
    if (live) managed.listeners.add(listener);
    return { replay, live, unsubscribe: () => managed.listeners.delete(listener) };
  }

  /** Sends `signal` to every running process group (agentd shutting down). */
  killAll(signal: NodeJS.Signals): void {
    for (const managed of this.#processes.values()) managed.run.kill(signal);
  }

  #find(pid: number): ManagedProcess {
    const managed = this.#processes.get(pid);
    if (!managed) throw new CiabError("process_not_found", `no process ${pid}`, { context: { pid } });
    return managed;
  }

  #onExit(managed: ManagedProcess, exit: Awaited<CommandRun["exited"]>): void {
    managed.info.running = false;
    managed.info.exitCode = exit.exitCode;
    managed.info.signal = exit.signal;
    managed.exitFrame = { type: "exit", ...exit };
    for (const listener of managed.listeners) listener(managed.exitFrame);
    managed.listeners.clear();
    this.#exitedOrder.push(managed.info.pid);
    while (this.#exitedOrder.length > exitedProcessesKept) {
      const oldest = this.#exitedOrder.shift()!;
      if (this.#processes.get(oldest)?.info.running === false) this.#processes.delete(oldest);
    }
  }

  /** A reused pid replaces the exited process that had it. */
  #forget(pid: number): void {
    if (!this.#processes.has(pid)) return;
    this.#processes.delete(pid);
    const index = this.#exitedOrder.indexOf(pid);
    if (index !== -1) this.#exitedOrder.splice(index, 1);
  }
}
