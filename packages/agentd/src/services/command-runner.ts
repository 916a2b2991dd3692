import { spawn, type ChildProcess } from "node:child_process";
import { stat } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import { CiabError, workspacePath } from "../protocol.js";
import type { PathResolver } from "./path-resolver.js";

export interface CommandSpec {
  command: string[];
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
  /** "pipe" keeps stdin open for writes; "ignore" gives the command /dev/null. */
  stdin: "pipe" | "ignore";
  timeoutMs?: number | undefined;
}

export interface CommandExit {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
}

/**
 * How long output pipes may stay open after the command exited: a background child that inherited them
 * would otherwise hold the answer forever.
 */
const pipeGraceMs = 200;
/** setTimeout fires at once for delays past a signed 32-bit int; longer timeouts are capped (~24 days). */
const maxTimerMs = 2 ** 31 - 1;

/** One spawned command in its own process group. */
export class CommandRun {
  readonly pid: number;
  readonly cwd: string;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable | null;
  /** Settles once the command exited and its output pipes closed. */
  readonly exited: Promise<CommandExit>;
  #running = true;

  constructor(child: ChildProcess, cwd: string, timeoutMs: number | undefined) {
    this.pid = child.pid!;
    this.cwd = cwd;
    this.stdout = child.stdout!;
    this.stderr = child.stderr!;
    this.stdin = child.stdin;
    this.stdin?.on("error", () => undefined); // EPIPE when the command stops reading
    const startedAt = performance.now();
    let timedOut = false;
    const timeout =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            this.kill("SIGKILL");
          }, Math.min(timeoutMs, maxTimerMs));
    let grace: NodeJS.Timeout | undefined;
    const closePipes = (): void => {
      if (this.stdout.isPaused() || this.stderr.isPaused()) {
        grace = setTimeout(closePipes, pipeGraceMs); // a slow reader is still draining
        return;
      }
      this.stdout.destroy();
      this.stderr.destroy();
    };
    this.exited = new Promise((resolve) => {
      child.once("exit", () => {
        this.#running = false;
        grace = setTimeout(closePipes, pipeGraceMs);
      });
      child.once("close", (exitCode: number | null, signal: NodeJS.Signals | null) => {
        this.#running = false;
        clearTimeout(timeout);
        clearTimeout(grace);
        resolve({ exitCode, signal, timedOut, durationMs: Math.round(performance.now() - startedAt) });
      });
    });
  }

  get running(): boolean {
    return this.#running;
  }

  /** Signals the whole process group, so children of a shell go too. */
  kill(signal: NodeJS.Signals): boolean {
    if (!this.#running) return false;
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch {
      try {
        process.kill(this.pid, signal);
        return true;
      } catch {
        return false;
      }
    }
  }
}

/** Spawns argv (no shell) and settles once the process exists, or with `command_not_found`. */
export class CommandRunner {
  readonly #paths: PathResolver;
  /** A plain copy of agentd's environment: spawn reads every key, and process.env is slow to read. */
  readonly #baseEnv: NodeJS.ProcessEnv;

  constructor(paths: PathResolver) {
    this.#paths = paths;
    this.#baseEnv = { ...process.env };
  }

  async spawn(spec: CommandSpec): Promise<CommandRun> {
    const cwd = this.resolveCwd(spec.cwd);
    const [file, ...args] = spec.command as [string, ...string[]];
    const child = spawn(file, args, {
      cwd,
      env: spec.env === undefined ? this.#baseEnv : { ...this.#baseEnv, ...spec.env },
      stdio: [spec.stdin, "pipe", "pipe"],
      detached: true, // its own process group, so a timeout or a signal reaches every descendant
    });
    await new Promise<void>((resolve, reject) => {
      const onSpawn = (): void => {
        child.off("error", onError);
        resolve();
      };
      const onError = (error: NodeJS.ErrnoException): void => {
        child.off("spawn", onSpawn);
        reject(error);
      };
      child.once("spawn", onSpawn);
      child.once("error", onError);
    }).catch(async (error: NodeJS.ErrnoException) => {
      throw await this.#spawnError(error, file, cwd, spec.cwd);
    });
    return new CommandRun(child, cwd, spec.timeoutMs);
  }

  /**
   * A cwd under /workspace (or relative) maps into the root. Other absolute paths mean something only when
   * agentd runs inside the sandbox, where the root is /workspace itself; on a host dir they are refused.
   */
  resolveCwd(cwd: string | undefined): string {
    if (cwd === undefined) return this.#paths.root;
    try {
      return this.#paths.map(cwd).hostPath;
    } catch (error) {
      const isOutside = error instanceof CiabError && error.code === "path_outside_sandbox";
      if (isOutside && this.#paths.root === workspacePath && cwd.startsWith("/")) return cwd;
      throw error;
    }
  }

  async #spawnError(error: NodeJS.ErrnoException, file: string, cwd: string, apiCwd: string | undefined): Promise<CiabError> {
    const cwdStats = await stat(cwd).catch(() => undefined);
    if (!cwdStats?.isDirectory()) {
      const code = cwdStats ? "not_a_directory" : "file_not_found";
      return new CiabError(code, `working directory ${apiCwd ?? workspacePath} does not exist`, { cause: error });
    }
    if (error.code === "ENOENT" || error.code === "EACCES" || error.code === "ENOTDIR") {
      return new CiabError("command_not_found", `${file}: command not found`, {
        cause: error,
        context: { command: file, errno: error.code },
      });
    }
    return new CiabError("internal", `could not start ${file}: ${error.message}`, { cause: error });
  }
}
