import type { Provider } from "../providers/provider.js";
import type { MachineJob } from "../runtimes/runtime.js";
import type { SessionRecord } from "../store/records.js";
import type { Principal } from "./auth-service.js";
import type { SandboxGrant } from "./sandbox-policy.js";
import type { SandboxService } from "./sandbox-service.js";

/**
 * Headless sessions as the machine's own job (seed 002's one task per prompt, docs/decisions/0038): the
 * task starts with the prompt, its entrypoint runs the agent once the work dir is ready, and agentd serves
 * that run through the job follower, a process it starts like any other, so the runner follows, resumes and
 * cancels it the same way.
 */

/**
 * ECS allows 8 KiB of container overrides in all; a longer prompt runs the agentd-started way, with the
 * prompt going over the channel instead of into the task's description.
 */
export const maximumJobPromptBytes = 4096;

/** The follower in the agent image (infra/agent-image/src/job-follower.ts). */
const followerCommand = ["node", "/opt/ciab/job-follow.mjs"];

/**
 * The job a session's sandbox is made with, when it runs that way: headless, a sandbox of its own on a
 * runtime whose machines run jobs, and an agent the image can run.
 */
export function headlessJob(session: SessionRecord, provider: Provider, grant: SandboxGrant | undefined): MachineJob | undefined {
  if (session.prompt === null || session.sandboxID !== null || grant === undefined) return undefined;
  if (grant.runtime.capabilities.headlessJobs !== true || provider.jobSelection === undefined) return undefined;
  if (Buffer.byteLength(session.prompt) > maximumJobPromptBytes) return undefined;
  return { prompt: session.prompt, env: provider.jobSelection(session.model ?? undefined) };
}

/**
 * How a job session ended when agentd could no longer say (its task stopped while the control plane was
 * away): the container's exit code and ECS's words for the stop, when the task kept them.
 */
export async function jobEndFromTask(
  sandboxes: SandboxService,
  principal: Principal,
  session: SessionRecord,
): Promise<{ exitCode: number; message: string } | undefined> {
  if (session.prompt === null || session.sandboxID === null || !session.ownsSandbox) return undefined;
  const end = await sandboxes.jobEnd(principal, session.sandboxID).catch(() => undefined);
  if (end?.exitCode === undefined) return undefined;
  const why = [end.stopCode, end.reason].filter(Boolean).join(": ");
  return { exitCode: end.exitCode, message: `the task stopped${why === "" ? "" : ` (${why})`} with exit code ${end.exitCode}` };
}

/**
 * What agentd starts for a job: the follower, which hands `env` (the gateway, the session token, the
 * agent's config) to the waiting entrypoint and prints the job's output until its exit.
 */
export function jobFollower(env: Record<string, string>): { command: string[]; env: Record<string, string> } {
  return { command: followerCommand, env: { CIAB_JOB_LAUNCH: JSON.stringify(env) } };
}
