import type { Logger } from "../logger.js";
import type { SessionRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { EventService } from "./event-service.js";
import type { FinalSnapshotOutcome } from "./final-snapshot.js";
import type { SandboxEnding, SandboxService } from "./sandbox-service.js";
import { sessionTag, systemPrincipal, type SessionGateway } from "./session-launch.js";

export interface SessionTeardownDependencies {
  store: Store;
  events: EventService;
  sandboxes: SandboxService;
  gateway: SessionGateway;
  logger: Logger;
}

/** What ending a session does to what it started: its agent, its model calls, the sandbox it made. */
export function createSessionTeardown(dependencies: SessionTeardownDependencies) {
  const { store, events, sandboxes, logger } = dependencies;

  /** The snapshot its `snapshot-on-idle` sandbox took as it ended: on the session and in its events. */
  async function recordFinalSnapshot(session: SessionRecord, outcome: FinalSnapshotOutcome): Promise<void> {
    if ("error" in outcome) {
      const data = { code: outcome.error.code, message: outcome.error.message, reason: outcome.why };
      await events.append(session.id, [{ type: "session.snapshot.failed", data }]);
      return;
    }
    await store.sessions.update(session.id, { finalSnapshotID: outcome.snapshotID });
    await events.append(session.id, [{ type: "session.snapshot.created", data: { snapshot_id: outcome.snapshotID, label: outcome.label, reason: outcome.why } }]);
  }

  /**
   * A job that did not end on its own (a cancel, a budget, the output cap, a lost follower) has its task
   * stopped now, whether or not the sandbox is kept: pi would otherwise run on, and the task with it, until
   * the job's hard cap (docs/decisions/0043). A sandbox being deleted that snapshots /workspace as it ends
   * keeps its task until the snapshot is taken: its delete stops it then. A kept sandbox whose job was
   * stopped has no machine left, and its record says so at once.
   */
  async function stopJob(session: SessionRecord, deleting: boolean): Promise<void> {
    if (session.prompt === null || !session.ownsSandbox || session.sandboxID === null) return;
    if (deleting && session.persistence === "snapshot-on-idle") return;
    const why = session.failureReason !== null && session.failureReason !== session.endReason ? ` (${session.failureReason})` : "";
    const end = `${session.endReason ?? "stopped"}${why}`;
    try {
      const principal = systemPrincipal(session);
      const stopped = await sandboxes.stopJob(principal, session.sandboxID, `ciab: session ${session.id} ended: ${end}`);
      // Read again: a delete that came while the task was being stopped has the last word on the record.
      const now = stopped && !deleting ? await store.sandboxes.get(session.workspaceID, session.sandboxID) : undefined;
      if (now?.state === "ready") {
        await sandboxes.fail(now, "job_stopped", `its task was stopped when session ${session.id} ended (${end})`);
      }
    } catch (error) {
      logger.warn({ sessionID: session.id, sandboxID: session.sandboxID, err: String(error) }, "could not stop the session's job");
    }
  }

  return {
    /**
     * Ends the session's agent, whether or not its pid was learned: a cancel can land while the start request
     * is in flight, so processes tagged with the session are found by their tag too.
     */
    async stopAgent(session: SessionRecord, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
      if (!session.sandboxID) return;
      await sandboxes
        .withAgent(systemPrincipal(session), session.sandboxID, async (agent) => {
          const tagged = (await agent.listProcesses()).filter((process) => process.running && process.tag === sessionTag(session.id));
          const pids = new Set([...(session.processPID !== null ? [session.processPID] : []), ...tagged.map((process) => process.pid)]);
          for (const pid of pids) await agent.signalProcess(pid, signal).catch(() => undefined);
        })
        .catch((error: unknown) => logger.debug({ sessionID: session.id, err: String(error) }, "stopping the agent"));
    },

    /**
     * Cuts the ended session's model calls, stops its job unless `jobOver` (the job's own exit ended the
     * session), and deletes the sandbox it made for itself unless it is to be kept.
     */
    async finish(session: SessionRecord, options: { jobOver?: boolean } = {}): Promise<void> {
      dependencies.gateway.cutOff(session.id);
      const current = (await store.sessions.getAny(session.id))!;
      const deleting = current.ownsSandbox && !current.keepSandbox && current.sandboxID !== null;
      if (options.jobOver !== true) await stopJob(current, deleting);
      if (deleting && current.sandboxID) {
        const budgetEnd = current.endReason === "max_runtime" || current.endReason === "idle_timeout";
        const options: SandboxEnding = {
          ...(budgetEnd ? { endReason: current.endReason! } : { why: "session_end" }),
          onFinalSnapshot: (outcome) => recordFinalSnapshot(current, outcome),
        };
        await sandboxes.delete(systemPrincipal(current), current.sandboxID, options).catch((error: unknown) => {
          logger.warn({ sessionID: session.id, err: String(error) }, "could not destroy the session's sandbox");
        });
      }
      // Last: the final snapshot's event is appended above.
      events.release(session.id);
    },
  };
}

export type SessionTeardown = ReturnType<typeof createSessionTeardown>;
