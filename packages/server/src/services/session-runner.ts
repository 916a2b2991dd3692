import { CiabError } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import type { Provider } from "../providers/provider.js";
import { getProvider } from "../providers/provider-registry.js";
import type { SessionRecord } from "../store/records.js";
import type { ActivityTracker } from "./activity-tracker.js";
import type { EventService } from "./event-service.js";
import type { SandboxGrant } from "./sandbox-policy.js";
import { readAgentOutput } from "./session-output-reader.js";
import { jobEndFromTask } from "./session-job.js";
import { createSessionLauncher, systemPrincipal, type SessionLaunchDependencies } from "./session-launch.js";
import { createSpotRetry } from "./session-spot-retry.js";
import { createSessionTeardown } from "./session-teardown.js";
import { createSessionTransitions, finalStates, type SessionEnding } from "./session-transitions.js";

export interface SessionRunnerDependencies extends SessionLaunchDependencies {
  events: EventService;
  /** `[policy] max_session_output_mb` in bytes. */
  maxOutputBytes: number;
  logger: Logger;
  /** Told of the agent's output, which keeps its session from being idle. */
  activity?: ActivityTracker;
}

const cancelled: SessionEnding = { state: "cancelled", endReason: "cancelled" };

/**
 * Runs sessions: launches the agent (session-launch.ts) and turns its output into events until it exits
 * (session-output-reader.ts), then ends the session and what it started (session-teardown.ts). Every step
 * is recorded first, so a restarted control plane resumes a running session where its events stopped.
 */
export function createSessionRunner(dependencies: SessionRunnerDependencies) {
  const { store, events, sandboxes, logger } = dependencies;
  const running = new Map<string, { controller: AbortController; ending: SessionEnding | undefined }>();
  const transitions = createSessionTransitions(dependencies);
  const { transition, endAs } = transitions;
  const launch = createSessionLauncher(dependencies, transitions);
  const teardown = createSessionTeardown(dependencies);
  const { stopAgent, finish } = teardown;
  const spot = createSpotRetry(dependencies);

  /**
   * Follows the agent's output until it exits (session-output-reader.ts), then ends the session by it.
   * Answers whether the agent ended on its own: for a job, the follower exited with the job's status.
   */
  async function consume(session: SessionRecord, provider: Provider, signal: AbortSignal): Promise<boolean> {
    const exit = await readAgentOutput(dependencies, session, provider, systemPrincipal(session), signal);
    const current = (await store.sessions.getAny(session.id))!;
    const exitCode = exit.exitCode ?? (exit.signal ? 128 : 1);
    const ending = running.get(session.id)?.ending;
    if (ending) await endAs(current, ending, exitCode);
    else if (exitCode === 0) await transition(current, "completed", { exitCode });
    else await transition(current, "failed", { exitCode, reason: "agent_exit", message: `the agent exited with ${exit.signal ?? `code ${exitCode}`}` });
    // A follower killed by a signal says nothing of its job, which may still run.
    return ending === undefined && exit.signal === null;
  }

  async function drive(session: SessionRecord, resume: boolean, grant?: SandboxGrant): Promise<void> {
    const entry: { controller: AbortController; ending: SessionEnding | undefined } = { controller: new AbortController(), ending: undefined };
    running.set(session.id, entry);
    const signal = entry.controller.signal;
    const provider = getProvider(session.provider);
    let spotRetried = false;
    let jobOver = false;
    try {
      for (;;) {
        try {
          if (!resume) {
            session = await transition(session, "starting");
            await launch(session, provider, grant, signal);
            session = (await store.sessions.getAny(session.id))!;
          } else {
            await dependencies.gateway.open(session.sandboxID!);
          }
          jobOver = await consume(session, provider, signal);
          break;
        } catch (error) {
          if (signal.aborted && !entry.ending) return; // the control plane is shutting down: resume later
          const current = (await store.sessions.getAny(session.id))!;
          const lostToSpot = await spot.lostToSpot(current);
          // One retry, on a new sandbox made from the same grant: only a session that made its own can.
          if (lostToSpot && !spotRetried && grant !== undefined && current.ownsSandbox && !entry.ending) {
            spotRetried = true;
            resume = false;
            session = await spot.forgetSandbox(current);
            continue;
          }
          if (!finalStates.includes(current.state)) {
            await stopAgent(current, "SIGKILL");
            const taskEnd = entry.ending ? undefined : await jobEndFromTask(sandboxes, systemPrincipal(current), current);
            if (entry.ending) await endAs(current, entry.ending);
            else if (taskEnd) {
              jobOver = true;
              const failed = taskEnd.exitCode !== 0 && { reason: "agent_exit", message: taskEnd.message };
              await transition(current, failed ? "failed" : "completed", { exitCode: taskEnd.exitCode, ...failed });
            } else {
              const failure = error instanceof CiabError ? error : new CiabError("internal", String(error), { cause: error });
              const reason = lostToSpot ? "spot_interrupted" : failure.code;
              await events.append(session.id, [{ type: "session.error", data: { code: failure.code, message: failure.message } }]);
              await transition(current, "failed", { reason, message: failure.message });
            }
          }
          break;
        }
      }
    } finally {
      running.delete(session.id);
    }
    await finish(session, { jobOver });
  }

  return {
    /** Starts a new session; `grant` (from the policy gate) is what its own sandbox may be, if it makes one. */
    start(session: SessionRecord, grant: SandboxGrant | undefined): void {
      void drive(session, false, grant).catch((error: unknown) => logger.error({ sessionID: session.id, err: String(error) }, "session runner"));
    },

    /**
     * After a restart: running sessions continue from their stored offset; half-started ones fail; ended ones
     * whose end the control plane stopped before carrying out (their job stopped, their sandbox deleted) have
     * it carried out now, rather than running on until the sandbox's own lifetime ends.
     */
    async resumeAll(): Promise<void> {
      for (const sandbox of await store.sandboxes.listAll({ states: ["ready", "paused"] })) {
        // One with a step under way (a final snapshot another replica is taking) is that replica's to end.
        if (sandbox.statusMessage !== null) continue;
        const owner = await store.sessions.ownerOf(sandbox.workspaceID, sandbox.id);
        if (!owner || owner.keepSandbox || !finalStates.includes(owner.state) || running.has(owner.id)) continue;
        logger.info({ sessionID: owner.id, sandboxID: sandbox.id }, "carrying out the end of a session the control plane stopped during");
        // Not awaited: a sandbox that snapshots as it ends would hold the server's start for minutes.
        void finish(owner).catch((error: unknown) => logger.warn({ sessionID: owner.id, err: String(error) }, "ending what an ended session left"));
      }
      for (const session of await store.sessions.listAll({ states: ["pending", "starting", "running", "idle"] })) {
        if (running.has(session.id)) continue;
        if ((session.state === "running" || session.state === "idle") && session.processPID !== null) {
          const grant = await spot.storedGrant(session);
          void drive(session, true, grant).catch((error: unknown) => logger.error({ sessionID: session.id, err: String(error) }, "session resume"));
        } else {
          await stopAgent(session, "SIGKILL");
          await transition(session, "failed", { reason: "start_interrupted", message: "the control plane stopped while this session was starting" });
          await finish(session);
        }
      }
    },

    cancel(session: SessionRecord): Promise<void> {
      return this.end(session, cancelled);
    },

    /**
     * Stops the agent and ends the session as `ending` says. A session this runner is not driving (its
     * start was interrupted) is ended here and now.
     */
    async end(session: SessionRecord, ending: SessionEnding): Promise<void> {
      const entry = running.get(session.id);
      if (entry?.ending) return; // already ending: the first reason stands
      if (entry) entry.ending = ending;
      else {
        await stopAgent(session, "SIGKILL");
        const current = (await store.sessions.getAny(session.id))!;
        if (finalStates.includes(current.state)) return;
        await endAs(current, ending);
        await finish(current);
        return;
      }
      if (session.processPID !== null) {
        await stopAgent(session, "SIGTERM");
        setTimeout(() => void stopAgent(session, "SIGKILL"), 5_000).unref();
      } else {
        // Still starting: abort the launch; drive() then stops whatever it had started.
        entry?.controller.abort(new CiabError("conflict", "cancelled"));
      }
    },

    async close(): Promise<void> {
      for (const entry of running.values()) entry.controller.abort();
    },
  };
}

export type SessionRunner = ReturnType<typeof createSessionRunner>;
