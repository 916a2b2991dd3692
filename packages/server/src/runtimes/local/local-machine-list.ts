import { readdir } from "node:fs/promises";
import path from "node:path";
import type { LocalRuntimeConfig } from "../../config/config-schema.js";
import type { ManagedMachine, RuntimeDependencies } from "../runtime.js";
import { jailCgroupProcesses, listJailCgroups, type JailCgroups } from "./jail-cgroups.js";
import { provisionalResources, readLocalMachine } from "./local-machine-file.js";
import { sandboxPaths } from "./machine-layout.js";
import { readProcessStat } from "./process-tree.js";

export interface LocalMachineListInputs {
  dependencies: Pick<RuntimeDependencies, "dataDirectory" | "installationID">;
  isolation: LocalRuntimeConfig["isolation"];
  cgroups: JailCgroups | undefined;
  signal: AbortSignal;
}

/**
 * The jails of this installation and isolation, from our records in the sandboxes dir and from our cgroups
 * alone: what runs in a jail never says what it is.
 */
export async function listLocalMachines({ dependencies, isolation, cgroups, signal }: LocalMachineListInputs): Promise<ManagedMachine[]> {
  const { dataDirectory, installationID } = dependencies;
  const sandboxesDirectory = path.resolve(dataDirectory, "sandboxes");
  const machines: ManagedMachine[] = [];
  const recorded = new Set<string>();
  for (const name of await readdir(sandboxesDirectory).catch(() => [] as string[])) {
    signal.throwIfAborted();
    const file = await readLocalMachine(path.join(sandboxesDirectory, name, "machine.json"));
    // Another installation's, or this one's under the other isolation: never ours to report or reap.
    if (file === undefined || file.sandboxID !== name || file.installationID !== installationID) continue;
    const paths = sandboxPaths(dataDirectory, name);
    if ("provisional" in file) {
      if (file.isolation !== isolation) continue;
      recorded.add(name);
      // Its process, if it ever got spawned, never passed the gate; only what was made for it is left.
      const details = { ...provisionalResources(file), sandboxDirectory: paths.directory, socketPath: paths.socket };
      machines.push({ machineID: `provisional-${name}`, sandboxID: name, state: "stopped", details });
      continue;
    }
    if (file.details.isolation !== isolation) continue;
    recorded.add(name);
    const stat = await readProcessStat(file.details.pid);
    const alive = stat !== undefined && stat.startTime === file.details.startTime && stat.state !== "Z";
    // A jail whose root died is reported `stopped` (what is left of it in its cgroup included), so the
    // reconciler fails its sandbox and destroys the rest.
    const state = !alive ? "stopped" : stat.state === "T" || stat.state === "t" ? "paused" : "running";
    machines.push({ machineID: file.machineID, sandboxID: file.sandboxID, state, details: { ...file.details } });
  }
  // A cgroup of ours with no record (its sandbox dir lost): the processes in it are a jail we started.
  if (cgroups !== undefined) {
    for (const [sandboxID, directories] of await listJailCgroups(cgroups)) {
      if (recorded.has(sandboxID) || !isSafeSandboxID(sandboxID)) continue;
      const paths = sandboxPaths(dataDirectory, sandboxID);
      const state = (await jailCgroupProcesses(directories)).length > 0 ? "running" : "stopped";
      const details = { isolation, cgroups: directories, sandboxDirectory: paths.directory, socketPath: paths.socket };
      machines.push({ machineID: `cgroup-${sandboxID}`, sandboxID, state, details });
    }
  }
  return machines;
}

function isSafeSandboxID(sandboxID: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(sandboxID) && !sandboxID.includes("..");
}
