import { access, mkdir, readFile, readdir, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { signalProcess, waitUntil } from "./process-tree.js";

/** Limits of one jail; undefined: none of that kind. */
export interface JailLimits {
  memoryBytes: number | undefined;
  pids: number | undefined;
  cpus: number | undefined;
}

/**
 * The cgroup subtree the control plane creates for its jails: one dir per sandbox in each hierarchy used
 * (cgroup v2: one; v1: memory, pids and, when mounted, cpu). Membership of a cgroup is set by the kernel
 * and by us only, so it is what tells the jail's processes apart: nothing a jail says about itself is read.
 */
export interface JailCgroups {
  version: 1 | 2;
  /** `<hierarchy>/<our own cgroup>/ciab-<installationID>` in each hierarchy. */
  bases: string[];
}

const v1Controllers = ["memory", "pids", "cpu"] as const;

interface MountedHierarchy {
  mountPoint: string;
  /** Controllers of a v1 hierarchy; empty for v2. */
  controllers: string[];
  version: 1 | 2;
}

async function mountedHierarchies(): Promise<MountedHierarchy[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  return text.split("\n").flatMap((line): MountedHierarchy[] => {
    const [before, after] = line.split(" - ");
    if (before === undefined || after === undefined) return [];
    const [fsType, , superOptions = ""] = after.split(" ");
    const mountPoint = before.split(" ")[4];
    if (mountPoint === undefined) return [];
    if (fsType === "cgroup2") return [{ mountPoint, controllers: [], version: 2 }];
    if (fsType === "cgroup") return [{ mountPoint, controllers: superOptions.split(","), version: 1 }];
    return [];
  });
}

/** Our own cgroup path per hierarchy, from /proc/self/cgroup ("" is the v2 hierarchy). */
async function ownCgroups(): Promise<Map<string, string>> {
  const text = await readFile("/proc/self/cgroup", "utf8");
  const own = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [, controllers, ...rest] = line.split(":");
    if (controllers === undefined || rest.length === 0) continue;
    for (const controller of controllers.split(",")) own.set(controller, rest.join(":"));
  }
  return own;
}

async function writable(directory: string): Promise<boolean> {
  try {
    await mkdir(directory, { recursive: true });
    await access(path.join(directory, "cgroup.procs"), 2);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds where jails' cgroups can go: v2 when its controllers reach our cgroup, v1 (memory and pids at
 * least) otherwise. Undefined when neither is writable, e.g. for a server that is not root.
 */
export async function detectJailCgroups(installationID: string): Promise<JailCgroups | undefined> {
  const hierarchies = await mountedHierarchies().catch(() => []);
  const own = await ownCgroups().catch(() => new Map<string, string>());
  const leaf = `ciab-${installationID}`;
  const unified = hierarchies.find((each) => each.version === 2);
  const unifiedPath = own.get("");
  if (unified !== undefined && unifiedPath !== undefined) {
    const ownDirectory = path.join(unified.mountPoint, unifiedPath);
    const available = (await readFile(path.join(ownDirectory, "cgroup.controllers"), "utf8").catch(() => "")).split(/\s+/);
    if (available.includes("memory") && available.includes("pids")) {
      const base = path.join(ownDirectory, leaf);
      const enable = ["memory", "pids", ...(available.includes("cpu") ? ["cpu"] : [])].map((name) => `+${name}`).join(" ");
      if ((await writable(base)) && (await writeFile(path.join(base, "cgroup.subtree_control"), enable).then(() => true, () => false))) {
        return { version: 2, bases: [base] };
      }
    }
  }
  const bases: string[] = [];
  for (const controller of v1Controllers) {
    const hierarchy = hierarchies.find((each) => each.version === 1 && each.controllers.includes(controller));
    const ownPath = own.get(controller);
    if (hierarchy === undefined || ownPath === undefined) continue;
    const base = path.join(hierarchy.mountPoint, ownPath, leaf);
    if (bases.includes(base)) continue;
    if (await writable(base)) bases.push(base);
    else if (controller !== "cpu") return undefined;
  }
  return bases.length >= 2 ? { version: 1, bases } : undefined;
}

/** Creates a sandbox's cgroup dirs with their limits; returns them, to be recorded in its machine file. */
export async function createJailCgroup(cgroups: JailCgroups, sandboxID: string, limits: JailLimits): Promise<string[]> {
  const directories = cgroups.bases.map((base) => path.join(base, sandboxID));
  if (cgroups.version === 2) {
    // The base may have been removed and made again by another runtime instance's close: enable again.
    const base = cgroups.bases[0]!;
    await mkdir(base, { recursive: true });
    const available = (await readFile(path.join(base, "cgroup.controllers"), "utf8")).split(/\s+/);
    const enable = ["memory", "pids", "cpu"].filter((name) => available.includes(name)).map((name) => `+${name}`);
    await writeFile(path.join(base, "cgroup.subtree_control"), enable.join(" "));
  }
  for (const directory of directories) {
    await mkdir(directory, { recursive: true });
    for (const [file, value] of limitFiles(cgroups.version, limits)) {
      // Each v1 dir has only its own controller's files; memsw exists only with swap accounting.
      const target = path.join(directory, file);
      if (await access(target).then(() => true, () => false)) await writeFile(target, value);
    }
  }
  return directories;
}

function limitFiles(version: 1 | 2, limits: JailLimits): [string, string][] {
  const files: [string, string][] = [];
  const period = 100_000;
  if (version === 2) {
    if (limits.memoryBytes !== undefined) files.push(["memory.max", String(limits.memoryBytes)], ["memory.swap.max", "0"]);
    if (limits.pids !== undefined) files.push(["pids.max", String(limits.pids)]);
    if (limits.cpus !== undefined) files.push(["cpu.max", `${Math.round(limits.cpus * period)} ${period}`]);
    return files;
  }
  if (limits.memoryBytes !== undefined) {
    // memsw may never sit below the memory limit, so it is written second; swap adds nothing to the bound.
    files.push(["memory.limit_in_bytes", String(limits.memoryBytes)], ["memory.memsw.limit_in_bytes", String(limits.memoryBytes)]);
  }
  if (limits.pids !== undefined) files.push(["pids.max", String(limits.pids)]);
  if (limits.cpus !== undefined) files.push(["cpu.cfs_period_us", String(period)], ["cpu.cfs_quota_us", String(Math.round(limits.cpus * period))]);
  return files;
}

/** Moves `pid` (before it has forked anything) into every dir of a sandbox's cgroup. */
export async function joinJailCgroup(directories: string[], pid: number): Promise<void> {
  for (const directory of directories) await writeFile(path.join(directory, "cgroup.procs"), String(pid));
}

/** The pids in a sandbox's cgroup (every process of its jail, whatever became of its root). */
export async function jailCgroupProcesses(directories: string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const directory of directories) {
    const text = await readFile(path.join(directory, "cgroup.procs"), "utf8").catch(() => "");
    for (const line of text.split("\n")) if (/^\d+$/.test(line)) pids.add(Number(line));
  }
  return [...pids];
}

/** SIGKILLs every process of the cgroup until it is empty, then removes its dirs; returns whether it emptied. */
export async function removeJailCgroup(directories: string[]): Promise<boolean> {
  const emptied = await waitUntil(async () => {
    const pids = await jailCgroupProcesses(directories);
    for (const pid of pids) signalProcess(pid, "SIGKILL");
    return pids.length === 0;
  }, 5_000);
  for (const directory of directories) {
    // The kernel frees a dead task's cgroup a moment after its pid leaves cgroup.procs.
    await waitUntil(() => rmdir(directory).then(() => true, (error: NodeJS.ErrnoException) => error.code === "ENOENT"), 2_000);
    // The base goes with its last jail (rmdir refuses while others remain); the next provision makes it again.
    await rmdir(path.dirname(directory)).catch(() => undefined);
  }
  return emptied;
}

/** Sandbox ids that have a cgroup dir under our bases: jails the control plane started, record or not. */
export async function listJailCgroups(cgroups: JailCgroups): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const base of cgroups.bases) {
    for (const entry of await readdir(base, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory()) continue;
      found.set(entry.name, [...(found.get(entry.name) ?? []), path.join(base, entry.name)]);
    }
  }
  return found;
}

/** The recorded cgroup dirs that are this installation's dirs of this sandbox; anything else is ignored. */
export function recordedJailCgroups(value: unknown, installationID: string, sandboxID: string): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (each): each is string =>
      typeof each === "string" &&
      each.startsWith("/sys/fs/cgroup/") &&
      !each.includes("/../") &&
      path.basename(each) === sandboxID &&
      path.basename(path.dirname(each)).startsWith(`ciab-${installationID}-`),
  );
}
