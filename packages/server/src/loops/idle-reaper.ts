import type { Logger } from "../logger.js";
import type { ActivityTracker } from "../services/activity-tracker.js";
import type { SessionRunner } from "../services/session-runner.js";
import type { SessionEnding } from "../services/session-transitions.js";
import type { Store } from "../store/store.js";

export interface IdleReaperDependencies {
  store: Store;
  runner: Pick<SessionRunner, "end">;
  activity: Pick<ActivityTracker, "lastSeen">;
  /** `[budget] idle_timeout_seconds` in milliseconds. */
  idleTimeoutMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * Ends sessions that saw no traffic for the idle timeout (`cancelled`, end reason `idle_timeout`). A session
 * is as fresh as the latest of: its start, the last traffic on its sandbox, and this reaper's own start (the
 * in-memory activity of a previous process is gone, so a restart never reaps early).
 */
export function createIdleReaper(dependencies: IdleReaperDependencies) {
  const { store, runner, activity, idleTimeoutMs, logger } = dependencies;
  const now = dependencies.now ?? Date.now;
  const startedAt = now();
  const ending: SessionEnding = { state: "cancelled", endReason: "idle_timeout" };

  return {
    async reapOnce(signal?: AbortSignal): Promise<string[]> {
      const at = now();
      const reaped: string[] = [];
      for (const session of await store.sessions.listAll({ states: ["running", "idle"] })) {
        if (signal?.aborted) break;
        if (session.sandboxID === null) continue;
        const last = Math.max(
          startedAt,
          Date.parse(session.startedAt ?? session.createdAt),
          activity.lastSeen(session.sandboxID) ?? 0,
        );
        if (at - last < idleTimeoutMs) continue;
        logger.info({ sessionID: session.id, idleSeconds: Math.round((at - last) / 1000) }, "session idle past its timeout");
        await runner.end(session, ending);
        reaped.push(session.id);
      }
      return reaped;
    },
  };
}

export type IdleReaper = ReturnType<typeof createIdleReaper>;
