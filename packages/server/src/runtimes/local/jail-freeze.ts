import { CiabError } from "@ciab/protocol";
import { listDescendants, readProcessStat, signalProcess, waitUntil } from "./process-tree.js";

/** Stops a jail's root and every process under it, and waits until all of them are stopped. */
export async function freezeJail(pid: number, sandboxID: string): Promise<void> {
  const stopped: number[] = [];
  // Processes may fork while we stop their parents, so look again until a pass finds nobody new.
  for (let pass = 0; pass < 10; pass++) {
    const fresh = (await listDescendants(pid)).filter((process) => !stopped.includes(process.pid));
    if (fresh.length === 0) break;
    for (const process of fresh.reverse()) {
      signalProcess(process.pid, "SIGSTOP");
      stopped.push(process.pid);
    }
  }
  signalProcess(pid, "SIGSTOP");
  stopped.push(pid);
  const frozen = await waitUntil(async () => {
    const states = await Promise.all(stopped.map((each) => readProcessStat(each)));
    return states.every((stat) => stat === undefined || stat.state === "T" || stat.state === "t" || stat.state === "Z");
  }, 2_000);
  if (!frozen) throw new CiabError("runtime_error", `the processes of sandbox ${sandboxID} did not stop`);
}

/** The reverse of freezeJail: the jail's root first, then its descendants, parents before children. */
export async function thawJail(pid: number): Promise<void> {
  signalProcess(pid, "SIGCONT");
  for (const process of await listDescendants(pid)) signalProcess(process.pid, "SIGCONT");
}
