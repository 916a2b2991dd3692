import { execFile } from "node:child_process";
import { readFile, readdir, readlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { CiabError, type TerminalSize } from "../protocol.js";

/**
 * Pseudo-terminals without native modules: util-linux `script` (in every Debian-like image) allocates the
 * pty and copies bytes between it and its own pipes; `stty -F` on the pty's slave changes the size, and the
 * kernel then sends SIGWINCH to the foreground process group.
 */

export const defaultTerm = "xterm-256color";

const run = promisify(execFile);

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

/**
 * argv (and what `script` itself needs in its env) that runs `command` on a new pty of `size`. The size is
 * set before the command starts (stdin of `script` is a pipe, so the pty would otherwise start at 0x0);
 * `exec` leaves the command itself in the foreground, where resizes reach it. `-e` passes its exit code on,
 * `-f` flushes every write. `script` runs its command with `$SHELL -c`, and bash so run is not interactive
 * and drops PS1 and PS2 from the environment: the sandbox's prompt would never reach the command. So
 * `script` gets SHELL=/bin/sh, and `shell`, the SHELL the command should see, is set back before it starts.
 */
export function ptyCommand(command: string[], size: TerminalSize, shell: string | undefined): { command: string[]; env: Record<string, string> } {
  const restore = shell === undefined ? "unset SHELL" : `export SHELL=${shellQuote(shell)}`;
  const inner = `stty rows ${size.rows} cols ${size.cols} 2>/dev/null; ${restore}; exec ${command.map(shellQuote).join(" ")}`;
  return { command: ["script", "-qfec", inner, "/dev/null"], env: { SHELL: "/bin/sh" } };
}

/** Sets the size of the pty that `script` (pid `scriptPID`) runs its command on. */
export async function resizePty(scriptPID: number, size: TerminalSize): Promise<void> {
  const device = await findPtySlave(scriptPID);
  try {
    await run("stty", ["-F", device, "rows", String(size.rows), "cols", String(size.cols)], { timeout: 5000 });
  } catch (error) {
    throw new CiabError("internal", `could not resize ${device}: ${(error as Error).message}`, { cause: error });
  }
}

/** How long to wait for `script` to have forked its command (a resize right after start). */
const childWaitMs = 1000;

async function findPtySlave(scriptPID: number): Promise<string> {
  const deadline = Date.now() + childWaitMs;
  for (;;) {
    for (const child of await childrenOf(scriptPID)) {
      for (const fd of [0, 1, 2]) {
        const target = await readlink(`/proc/${child}/fd/${fd}`).catch(() => "");
        if (target.startsWith("/dev/pts/")) return target;
      }
    }
    if (Date.now() > deadline) {
      throw new CiabError("invalid_state", `process ${scriptPID} has no terminal any more`, { context: { pid: scriptPID } });
    }
    await sleep(20);
  }
}

/** Child pids, from /proc/<pid>/task/<pid>/children, or by reading every process's parent where that file is missing. */
async function childrenOf(pid: number): Promise<number[]> {
  const listed = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => undefined);
  if (listed !== undefined) return listed.split(/\s+/).filter(Boolean).map(Number);
  const children: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    // Field 4 is the parent pid; field 2 (the name) may hold spaces and parentheses, so count from its end.
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent === pid) children.push(Number(name));
  }
  return children;
}
