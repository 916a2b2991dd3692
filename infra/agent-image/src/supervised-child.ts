import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child in its own process group, stopped the way ECS stops a task: SIGTERM to the whole group (the
 * agent and the tools it runs), then SIGKILL once the grace is over.
 */
export class SupervisedChild {
  readonly process: ChildProcess;
  readonly exited: Promise<ChildExit>;
  #killTimer: NodeJS.Timeout | undefined;
  #running = true;

  constructor(command: string, args: string[], options: SpawnOptions) {
    this.process = spawn(command, args, { ...options, detached: true });
    this.exited = new Promise((resolve, reject) => {
      this.process.once("error", reject);
      this.process.once("exit", (code, signal) => {
        this.#running = false;
        clearTimeout(this.#killTimer);
        resolve({ code, signal });
      });
    });
  }

  /** SIGTERM now, SIGKILL after `graceSeconds` if the group is still there. Repeated calls keep the first timer. */
  stop(graceSeconds: number): void {
    if (!this.#running || this.#killTimer !== undefined) return;
    this.#signal("SIGTERM");
    this.#killTimer = setTimeout(() => this.#signal("SIGKILL"), graceSeconds * 1000);
    this.#killTimer.unref();
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.process.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      this.process.kill(signal);
    }
  }
}

/** The shell convention for an exit: the code, or 128 + the signal's number. */
export function exitStatus(exit: ChildExit): number {
  if (exit.code !== null) return exit.code;
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return 128 + (exit.signal === null ? 0 : numbers[exit.signal] ?? 0);
}
