import { rm } from "node:fs/promises";
import { CiabError } from "@ciab/protocol";
import type { RuntimeDependencies } from "../runtime.js";
import { removeAgentSocketLink } from "./agent-socket.js";
import { jailCgroupProcesses, recordedJailCgroups, removeJailCgroup } from "./jail-cgroups.js";
import { releaseJailUser } from "./jail-users.js";
import type { SandboxPaths } from "./machine-layout.js";
import { listJailProcesses, signalProcess, waitUntil } from "./process-tree.js";
import { removeWorkspaceVolume, unmountIfMounted } from "./workspace-volume.js";

/**
 * Kills every process of a sandbox (those of its cgroup, and of its root's session and tree) and removes
 * all that was made for it, from what our record says. Throws, retryably, if processes outlive the kill.
 */
export async function removeSandbox(
  paths: SandboxPaths,
  sandboxID: string,
  recorded: Record<string, unknown>,
  { dataDirectory, installationID }: Pick<RuntimeDependencies, "dataDirectory" | "installationID">,
): Promise<void> {
  const cgroups = recordedJailCgroups(recorded.cgroups, installationID, sandboxID);
  const { pid, startTime } = recorded;
  const known = typeof pid === "number" && typeof startTime === "number" ? { pid, startTime } : undefined;
  const emptied = await waitUntil(async () => {
    const processes = known === undefined ? [] : (await listJailProcesses(known.pid, known.startTime)).filter((each) => each.state !== "Z");
    for (const each of processes) signalProcess(each.pid, "SIGKILL");
    const inCgroup = await jailCgroupProcesses(cgroups);
    for (const each of inCgroup) signalProcess(each, "SIGKILL");
    return processes.length === 0 && inCgroup.length === 0;
  }, 5_000);
  if (!emptied || !(await removeJailCgroup(cgroups))) {
    throw new CiabError("runtime_error", `the processes of sandbox ${sandboxID} did not exit`, { retryable: true });
  }
  // Whatever the record says: the host's mount table tells what is still mounted.
  await removeWorkspaceVolume(paths.workspaceVolume, paths.workspace);
  await unmountIfMounted(paths.run);
  if (typeof recorded.jailUID === "number") await releaseJailUser(dataDirectory, recorded.jailUID, sandboxID);
  await rm(paths.directory, { recursive: true, force: true, maxRetries: 3 });
  await removeAgentSocketLink(paths.socket);
}
