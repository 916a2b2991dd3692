import { readFile, readdir } from "node:fs/promises";

/** The fields of /proc/<pid>/stat that the local runtime uses. */
export interface ProcessStat {
  pid: number;
  /** R, S, D, T (stopped), t, Z (zombie), X… */
  state: string;
  parentPID: number;
  /** The session id (field 6): a detached jail's processes keep its root's session even once reparented. */
  sessionID: number;
  /** Clock ticks since boot (field 22): with the pid it names one process for good, pids being recycled. */
  startTime: number;
}

/** Parses one /proc/<pid>/stat line; `comm` may hold spaces and parentheses, so fields start after the last ")". */
export function parseProcessStat(text: string): ProcessStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 of the line (state); field n sits at fields[n - 3].
  const state = fields[0];
  const parentPID = Number(fields[1]);
  const sessionID = Number(fields[3]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isInteger(pid) || !Number.isFinite(parentPID) || !Number.isFinite(sessionID) || !Number.isFinite(startTime)) {
    return undefined;
  }
  return { pid, state, parentPID, sessionID, startTime };
}

export async function readProcessStat(pid: number): Promise<ProcessStat | undefined> {
  try {
    return parseProcessStat(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still the process that started at `startTime` (zombies count as gone). */
export async function isSameProcessAlive(pid: number, startTime: number): Promise<boolean> {
  const stat = await readProcessStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== "Z" && stat.state !== "X";
}

async function readAllProcesses(): Promise<ProcessStat[]> {
  const names = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  const stats = await Promise.all(names.map((name) => readProcessStat(Number(name))));
  return stats.filter((stat) => stat !== undefined);
}

function descendantsIn(processes: ProcessStat[], roots: number[]): ProcessStat[] {
  const children = new Map<number, ProcessStat[]>();
  for (const stat of processes) {
    const siblings = children.get(stat.parentPID) ?? [];
    siblings.push(stat);
    children.set(stat.parentPID, siblings);
  }
  const descendants: ProcessStat[] = [];
  const seen = new Set(roots);
  const queue = [...roots];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      descendants.push(child);
      queue.push(child.pid);
    }
  }
  return descendants;
}

/** Every descendant of `rootPID`, parents before children, found by scanning /proc. */
export async function listDescendants(rootPID: number): Promise<ProcessStat[]> {
  return descendantsIn(await readAllProcesses(), [rootPID]);
}

/** Clock ticks within which a jail's own processes start after its root (bwrap forks its init at once). */
const sessionStartWindow = 1_000;

/**
 * Every process of a detached jail: its root (when still the same process), the members of the session the
 * root leads that started with it, and all their descendants. The session catches a jail's pid-namespace
 * init after the root died and it was reparented, which a walk down from the root would miss.
 */
export async function listJailProcesses(rootPID: number, rootStartTime: number): Promise<ProcessStat[]> {
  const processes = await readAllProcesses();
  const seeds = processes.filter(
    (stat) =>
      (stat.pid === rootPID && stat.startTime === rootStartTime) ||
      (stat.sessionID === rootPID &&
        stat.startTime >= rootStartTime &&
        stat.startTime - rootStartTime <= sessionStartWindow),
  );
  const seedPIDs = seeds.map((stat) => stat.pid);
  return [...seeds, ...descendantsIn(processes, seedPIDs).filter((stat) => !seedPIDs.includes(stat.pid))];
}

/** Sends `signal` to a pid, ignoring a process that is already gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Polls until `done` holds or `timeoutMilliseconds` pass; returns whether it held. */
export async function waitUntil(done: () => Promise<boolean>, timeoutMilliseconds: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMilliseconds;
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
