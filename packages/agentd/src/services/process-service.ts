import { mkdir } from "node:fs/promises";
import {
  CiabError,
  processReplayLimitBytes,
  type ExecFrame,
  type ProcessInfo,
  type SignalRequest,
  type StartProcessRequest,
  type TerminalSize,
} from "../protocol.js";
import type { CommandRun, CommandRunner } from "./command-runner.js";
import { OutputLog } from "./output-log.js";
import { defaultTerm, ptyCommand, resizePty } from "./pseudo-terminal.js";
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
  /** Bytes of stdout so far: the offset of the next stdout byte. */
  stdoutBytes: number;
  /** The whole stdout on disk, for processes started with persistOutput. */
  log: OutputLog | undefined;
}

/** What a reader of a process's output gets: what was kept, and live frames until exit when following. */
export interface OutputSubscription {
  /** The start frame, the replayed output and, when the process already exited, its exit frame. */
  replay: ExecFrame[];
  /** True when live frames will follow through the listener. */
  live: boolean;
  unsubscribe(): void;
}

/**
 * A read of stdout from a byte offset: `stored` (the bytes already on disk) first, then the frames the
 * listener got meanwhile, then live frames. The listener only sees bytes past `stored`'s end.
 */
export interface OffsetSubscription {
  start: ExecFrame;
  /** Stdout bytes on disk from the asked offset up to where live frames begin. */
  stored: { from: number; read(): AsyncIterable<Buffer> };
  /** Set when the process already exited: the last frame to send. */
  exitFrame: ExecFrame | undefined;
  /**
   * Kept stderr, for a reader starting at offset 0 (stderr is not on disk; a resuming reader would see it
   * twice, so it gets none). Enough to show why an agent crashed at start-up.
   */
  stderr: ExecFrame[];
  live: boolean;
  unsubscribe(): void;
}

export interface ProcessServiceOptions {
  /** Where persisted output goes (`<pid>.stdout`); created on first use, private to agentd's user. */
  stateDirectory: string;
}

/** Background processes, known by their real pid. */
export class ProcessService {
  readonly #runner: CommandRunner;
  readonly #stateDirectory: string;
  readonly #processes = new Map<number, ManagedProcess>();
  readonly #exitedOrder: number[] = [];

  constructor(runner: CommandRunner, options: ProcessServiceOptions) {
    this.#runner = runner;
    this.#stateDirectory = options.stateDirectory;
  }

  async start(request: StartProcessRequest): Promise<ProcessInfo> {
    const { cwd, pty } = request;
    const terminal = pty ? ptyCommand(request.command, pty, request.env?.SHELL ?? process.env.SHELL) : undefined;
    const command = terminal ? terminal.command : request.command;
    const env = terminal ? { TERM: defaultTerm, ...request.env, ...terminal.env } : request.env;
    if (request.persistOutput) await mkdir(this.#stateDirectory, { recursive: true, mode: 0o700 });
    const run = await this.#runner.spawn({ command, cwd, env, stdin: "pipe" }).catch((error: unknown) => {
      if (pty && error instanceof CiabError && error.code === "command_not_found" && error.context?.command === "script") {
        throw new CiabError("capability_unsupported", "a pty needs util-linux `script` in the sandbox image", { cause: error });
      }
      throw error;
    });
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
    if (pty) info.pty = { cols: pty.cols, rows: pty.rows };
    if (request.persistOutput) info.persistOutput = true;
    this.#forget(run.pid);
    let log: OutputLog | undefined;
    try {
      if (request.persistOutput) log = OutputLog.create(this.#stateDirectory, run.pid);
    } catch (error) {
      run.kill("SIGKILL");
      throw new CiabError("internal", `cannot keep output in ${this.#stateDirectory}: ${(error as Error).message}`, { cause: error });
    }
    const replay = new ReplayBuffer(processReplayLimitBytes);
    const managed: ManagedProcess = { info, run, replay, listeners: new Set(), exitFrame: undefined, stdoutBytes: 0, log };
    this.#processes.set(run.pid, managed);
    run.stdout.on("data", (data: Buffer) => {
      const offset = managed.stdoutBytes;
      managed.stdoutBytes += data.length;
      managed.log?.append(data);
      managed.replay.push("stdout", data);
      if (managed.listeners.size === 0) return;
      const frame = toOutputFrame("stdout", data);
      if (managed.log) frame.offset = offset;
      for (const listener of managed.listeners) listener(frame);
    });
    run.stderr.on("data", (data: Buffer) => {
      managed.replay.push("stderr", data);
      if (managed.listeners.size === 0) return;
      const frame = toOutputFrame("stderr", data);
      for (const listener of managed.listeners) listener(frame);
    });
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

  /** Ends the process's stdin, so that a reader of it sees end of file; closing it twice is harmless. */
  closeStdin(pid: number): void {
    const stdin = this.#find(pid).run.stdin;
    if (stdin && !stdin.destroyed && !stdin.writableEnded) stdin.end();
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

  /**
   * Reads stdout of a persistOutput process from byte `offset`. Synchronous up to the returned object, so
   * the file's length taken here is exactly where the listener's frames begin: nothing is lost or repeated.
   */
  subscribeFromOffset(pid: number, offset: number, follow: boolean, listener: FrameListener): OffsetSubscription {
    const managed = this.#find(pid);
    const log = managed.log;
    if (!log) {
      throw new CiabError("invalid_state", `process ${pid} was not started with persistOutput`, { context: { pid } });
    }
    const end = managed.stdoutBytes;
    const from = Math.min(offset, end);
    const live = follow && managed.exitFrame === undefined;
    // An offset past what was written so far: live data below it is dropped too.
    const forward: FrameListener =
      offset > end
        ? (frame) => {
            const rest = sliceFrom(frame, offset);
            if (rest) listener(rest);
          }
        : listener;
    if (live) managed.listeners.add(forward);
    return {
      start: { type: "start", pid },
      stored: { from, read: () => log.read(from, end) },
      exitFrame: managed.exitFrame,
      stderr: offset === 0 ? managed.replay.frames().filter((frame) => frame.type === "stderr") : [],
      live,
      unsubscribe: () => managed.listeners.delete(forward),
    };
  }

  async resize(pid: number, size: TerminalSize): Promise<ProcessInfo> {
    const managed = this.#find(pid);
    if (!managed.info.pty) {
      throw new CiabError("invalid_state", `process ${pid} does not run on a pty`, { context: { pid } });
    }
    if (!managed.info.running) throw new CiabError("invalid_state", `process ${pid} has exited`, { context: { pid } });
    await resizePty(pid, size);
    managed.info.pty = { cols: size.cols, rows: size.rows };
    return { ...managed.info };
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
    managed.log?.close();
    for (const listener of managed.listeners) listener(managed.exitFrame);
    managed.listeners.clear();
    this.#exitedOrder.push(managed.info.pid);
    while (this.#exitedOrder.length > exitedProcessesKept) {
      const oldest = this.#exitedOrder.shift()!;
      const evicted = this.#processes.get(oldest);
      if (evicted?.info.running !== false) continue;
      evicted.log?.remove();
      this.#processes.delete(oldest);
    }
  }

  /** A reused pid replaces the exited process that had it. */
  #forget(pid: number): void {
    const previous = this.#processes.get(pid);
    if (!previous) return;
    previous.log?.close();
    this.#processes.delete(pid);
    const index = this.#exitedOrder.indexOf(pid);
    if (index !== -1) this.#exitedOrder.splice(index, 1);
  }
}

/** The part of a stdout frame at or past `offset`; undefined when none is. Other frames pass as they are. */
function sliceFrom(frame: ExecFrame, offset: number): ExecFrame | undefined {
  if (frame.type !== "stdout" || frame.offset === undefined) return frame;
  const data = Buffer.from(frame.data, "base64");
  if (frame.offset + data.length <= offset) return undefined;
  if (frame.offset >= offset) return frame;
  return { ...toOutputFrame("stdout", data.subarray(offset - frame.offset)), offset };
}
