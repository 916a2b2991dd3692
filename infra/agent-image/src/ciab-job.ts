import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseLaunch, type JobFiles } from "./job-files.js";

/**
 * The entrypoint's side of a ciab session's job (docs/decisions/0038): with ciab's channel and a prompt, pi
 * waits until the control plane, through agentd, has prepared the work dir (repo clone, pi's models.json)
 * and handed over the job's env; once pi is done, the entrypoint stays until ciab has its exit status.
 */
const pollMs = 200;
/** The launch file holds a few variables; anything larger is not ciab's. */
const maximumLaunchBytes = 256 * 1024;
/** After a stop, how long the exit status may take to reach agentd's reader. */
const stoppedLingerMs = 5_000;
/** Once the follower has printed the exit, agentd still has to send it over the channel. */
const handOverMs = 2_000;

export function prepareJobDirectory(files: JobFiles): void {
  mkdirSync(files.directory, { recursive: true, mode: 0o700 });
  for (const stale of [files.launch, files.output, files.collected]) rmSync(stale, { force: true });
  writeFileSync(files.entrypointPID, `${process.pid}\n`, { mode: 0o600 });
}

/** The job's env once the launch file is there; undefined when a stop came first. The file is removed once read. */
export async function waitForLaunch(files: JobFiles, isStopping: () => boolean): Promise<Record<string, string> | undefined> {
  while (!isStopping()) {
    if (existsSync(files.launch)) {
      const size = statSync(files.launch).size;
      if (size > maximumLaunchBytes) throw new Error(`the launch file has ${size} bytes, more than ${maximumLaunchBytes}`);
      const env = parseLaunch(readFileSync(files.launch, "utf8"));
      rmSync(files.launch, { force: true });
      return env;
    }
    await sleep(pollMs);
  }
  return undefined;
}

/**
 * Keeps the task (and agentd in it) up after the job until ciab took its exit status: until ciab stops the
 * task, or, when a stop ended the job, until the follower printed the exit; never past `lingerSeconds`.
 */
export async function lingerForCollection(files: JobFiles, isStopping: () => boolean, lingerSeconds: number): Promise<void> {
  let deadline = Date.now() + lingerSeconds * 1000;
  let stopSeen = false;
  while (Date.now() < deadline) {
    if (isStopping()) {
      if (existsSync(files.collected)) {
        await sleep(handOverMs);
        return;
      }
      if (!stopSeen) deadline = Math.min(deadline, Date.now() + stoppedLingerMs);
      stopSeen = true;
    }
    await sleep(pollMs);
  }
}
