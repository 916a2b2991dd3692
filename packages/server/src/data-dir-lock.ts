import { randomBytes } from "node:crypto";
import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
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
 *
 * Every step is atomic, so two servers starting at the same instant never both win (decision 0045): the
 * lock appears whole or not at all (written aside, then hard-linked into place, which fails if it exists),
 * and a stale lock is removed only under `server.lock.takeover`, itself taken by a link, after reading it
 * again: a takeover never removes a lock another server has just taken.
 */
export function lockDataDirectory(dataDirectory: string): DataDirectoryLock {
  const file = path.join(dataDirectory, "server.lock");
  const self: LockOwner = { pid: process.pid, start: processStart(process.pid) };
  const text = `${JSON.stringify(self)}\n`;
  const deadline = Date.now() + takeoverWaitMs;
  do {
    if (linkInPlace(file, text)) {
      heldHere.add(file);
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          if (readText(file) === text) rmSync(file, { force: true });
        },
      };
    }
    const seen = readText(file);
    const owner = seen === undefined ? undefined : parseOwner(seen);
    if (owner && isAlive(owner, file)) {
      throw new Error(
        `another ciab server (pid ${owner.pid}) is using the data dir ${dataDirectory}; stop it first, or give this one another --data-dir`,
      );
    }
    if (seen !== undefined) removeStale(file, seen);
  } while (Date.now() < deadline);
  throw new Error(`cannot take the lock ${file}: another server keeps taking it`);
}

/** How long a start keeps trying while other starts take over the same stale lock. */
const takeoverWaitMs = 5_000;
/** A takeover takes milliseconds: a takeover lock older than this was left by a process that died in one. */
const takeoverStaleMs = 10_000;

/** Creates `file` holding `text`, or answers false when it exists; never leaves a partly written file. */
function linkInPlace(file: string, text: string): boolean {
  const aside = `${file}.${process.pid}.${randomBytes(6).toString("hex")}`;
  writeFileSync(aside, text, { flag: "wx", mode: 0o600 });
  try {
    linkSync(aside, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Removes the lock if it still holds `seen`, under the takeover lock; else waits a moment for the taker. */
function removeStale(file: string, seen: string): void {
  const takeover = `${file}.takeover`;
  if (!linkInPlace(takeover, `${JSON.stringify({ pid: process.pid })}\n`)) {
    const age = ageMs(takeover);
    if (age !== undefined && age > takeoverStaleMs) rmSync(takeover, { force: true });
    else sleepSync(5 + Math.random() * 20);
    return;
  }
  try {
    if (readText(file) === seen) rmSync(file, { force: true });
  } finally {
    rmSync(takeover, { force: true });
  }
}

/** A lock is one short JSON line: whatever is longer was not written by a server. */
const lockTextLimit = 4096;
/** What anything but a regular file at the lock's name reads as: no owner, so it is stale and removed. */
const notALockFile = "\0not a lock file";

/**
 * The lock's text, read without following a symlink or waiting on a FIFO, and at most `lockTextLimit` bytes
 * of it; undefined when nothing is there.
 */
function readText(file: string): string | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    // ELOOP: a symlink. Anything else (gone, unreadable) is no text to judge the lock by.
    return (error as NodeJS.ErrnoException).code === "ELOOP" ? notALockFile : undefined;
  }
  try {
    if (!fstatSync(descriptor).isFile()) return notALockFile;
    const buffer = Buffer.alloc(lockTextLimit + 1);
    const length = readSync(descriptor, buffer, 0, buffer.length, 0);
    return length > lockTextLimit ? notALockFile : buffer.subarray(0, length).toString("utf8");
  } catch {
    return notALockFile;
  } finally {
    closeSync(descriptor);
  }
}

/** The age of the entry itself, a symlink's own and not its target's. */
function ageMs(file: string): number | undefined {
  try {
    const entry = lstatSync(file);
    return entry.isFile() ? Date.now() - entry.mtimeMs : Infinity;
  } catch {
    return undefined;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
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
  // A server here always writes its start time where /proc has it: a lock without one was not written by a
  // server of this machine (a planted `{"pid":1}`), and would otherwise block every start for good.
  if (owner.start === null) return processStart(process.pid) === null;
  const start = processStart(owner.pid);
  return start === null || start === owner.start;
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
