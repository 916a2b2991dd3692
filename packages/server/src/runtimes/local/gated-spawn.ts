import { spawn } from "node:child_process";
import { open } from "node:fs/promises";
import type { Socket } from "node:net";

/** A process spawned detached that waits, before running anything, until `release` is called. */
export interface GatedProcess {
  pid: number;
  /** Lets the process exec its command. */
  release(): void;
  /** Lets it exit without running anything. */
  cancel(): void;
}

/** fd 3 of the gate: the process reads one line from it, then execs. */
const gateFD = 3;
/** The first fd after the gate, where `extraInput` buffers are readable (to EOF) in order. */
export const firstInputFD = 4;

/**
 * Spawns `command` in a session of its own, with output to `logPath`, behind a shell that waits on a pipe.
 * In between, the caller moves the pid into the jail's cgroup (so every process the command forks lands in
 * it) and records the pid: the command never runs unrecorded or outside its limits. If this process dies
 * first, the pipe closes and the shell exits without running the command.
 */
export async function spawnGated(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; logPath: string; extraInput: Buffer[] },
): Promise<GatedProcess> {
  const log = await open(options.logPath, "a", 0o600);
  try {
    const script = `read -r line <&${gateFD} || exit 1; exec ${gateFD}<&-; exec "$@"`;
    const child = spawn("/bin/sh", ["-c", script, "ciab-gate", command, ...args], {
      detached: true,
      stdio: ["ignore", log.fd, log.fd, "pipe", ...options.extraInput.map(() => "pipe" as const)],
      env: options.env,
      cwd: options.cwd,
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    child.unref();
    if (child.pid === undefined) throw new Error("/bin/sh has no pid");
    const gate = child.stdio[gateFD] as Socket;
    const inputs = options.extraInput.map((_, index) => child.stdio[firstInputFD + index] as Socket);
    for (const socket of [gate, ...inputs]) {
      socket.on("error", () => undefined);
      socket.unref();
    }
    inputs.forEach((socket, index) => socket.end(options.extraInput[index]!));
    return {
      pid: child.pid,
      release: () => gate.end("go\n"),
      cancel: () => gate.destroy(),
    };
  } finally {
    await log.close();
  }
}
