import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Held while a server uses a data dir; `release` is idempotent. */
export interface DataDirectoryLock {
  readonly file: string;
  release(): void;
}

interface LockOwner {
  pid: number;
  /** The process's start time in clock ticks since boot (`/proc/<pid>/stat`), so a reused pid is not taken for the owner. */
  start: string | null;
}

/** Data dirs locked by this process: a second server in the same process is refused too. */
const heldHere = new Set<string>();

/**
 * Takes `<data dir>/server.lock`, or throws a message saying which process holds it. The file names the
 * owner's pid and start time; a lock whose owner is gone (a crash, a SIGKILL) is taken over, so a stale lock
 * never blocks a restart. Two servers sharing one SQLite file would each reconcile, reap and resume the
 * other's sandboxes and sessions.
 */
export function lockDataDirectory(dataDirectory: string): DataDirectoryLock {
  const file = path.join(dataDirectory, "server.lock");
  const self: LockOwner = { pid: process.pid, start: processStart(process.pid) };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      writeFileSync(file, `${JSON.stringify(self)}\n`, { flag: "wx", mode: 0o600 });
      heldHere.add(file);
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          if (readOwner(file)?.pid === self.pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = readOwner(file);
    if (owner && isAlive(owner, file)) {
      throw new Error(
        `another ciab server (pid ${owner.pid}) is using the data dir ${dataDirectory}; stop it first, or give this one another --data-dir`,
      );
    }
    rmSync(file, { force: true });
  }
  throw new Error(`cannot take the lock ${file}: another server keeps taking it`);
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<LockOwner>;
    if (typeof parsed.pid !== "number" || !Number.isInteger(parsed.pid) || parsed.pid <= 0) return undefined;
    return { pid: parsed.pid, start: typeof parsed.start === "string" ? parsed.start : null };
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner, file: string): boolean {
  if (owner.pid === process.pid) return heldHere.has(file);
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const start = processStart(owner.pid);
  return owner.start === null || start === null || start === owner.start;
}

/** Field 22 of `/proc/<pid>/stat`; null where there is no /proc. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last `)`.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}
