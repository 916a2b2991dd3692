import { readFile, readdir } from "node:fs/promises";

/** The fields of /proc/<pid>/stat that the local runtime uses. */
export interface ProcessStat {
  pid: number;
  /** R, S, D, T (stopped), t, Z (zombie), X… */
  state: string;
  parentPID: number;
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
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isInteger(pid) || !Number.isFinite(parentPID) || !Number.isFinite(startTime)) {
    return undefined;
  }
  return { pid, state, parentPID, startTime };
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

/** Every descendant of `rootPID`, parents before children, found by scanning /proc. */
export async function listDescendants(rootPID: number): Promise<ProcessStat[]> {
  const names = await readdir("/proc");
  const stats = await Promise.all(names.filter((name) => /^\d+$/.test(name)).map((name) => readProcessStat(Number(name))));
  const children = new Map<number, ProcessStat[]>();
  for (const stat of stats) {
    if (stat === undefined) continue;
    const siblings = children.get(stat.parentPID) ?? [];
    siblings.push(stat);
    children.set(stat.parentPID, siblings);
  }
  const descendants: ProcessStat[] = [];
  const queue = [rootPID];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      descendants.push(child);
      queue.push(child.pid);
    }
  }
  return descendants;
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
