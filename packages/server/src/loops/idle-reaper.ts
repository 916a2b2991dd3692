import type { Logger } from "../logger.js";
import type { ActivityTracker } from "../services/activity-tracker.js";
import type { SessionRunner } from "../services/session-runner.js";
import type { SessionEnding } from "../services/session-transitions.js";
import type { Store } from "../store/store.js";
import { createFailureBackoff } from "./failure-backoff.js";
import { createItemAttempts } from "./item-attempts.js";

export interface IdleReaperDependencies {
  store: Store;
  runner: Pick<SessionRunner, "end">;
  activity: Pick<ActivityTracker, "lastSeen">;
  /** `[budget] idle_timeout_seconds` in milliseconds. */
  idleTimeoutMs: number;
  logger: Logger;
  now?: () => number;
  /** How long a pass waits on one end before going on (item-attempts.ts); by default until it is over. */
  itemWaitMs?: number | undefined;
}

/**
 * Ends sessions that saw no traffic for the idle timeout (`cancelled`, end reason `idle_timeout`). A session
 * is as fresh as the latest of: its start, the last traffic on its sandbox, and this reaper's own start (the
 * in-memory activity of a previous process is gone, so a restart never reaps early). A session whose end
 * fails is logged and sits out a backoff; the sessions after it are still reaped.
 */
export function createIdleReaper(dependencies: IdleReaperDependencies) {
  const { store, runner, activity, idleTimeoutMs, logger } = dependencies;
  const now = dependencies.now ?? Date.now;
  const startedAt = now();
  const ending: SessionEnding = { state: "cancelled", endReason: "idle_timeout" };
  const backoff = createFailureBackoff({ now });
  const attempts = createItemAttempts(backoff, {
    itemWaitMs: dependencies.itemWaitMs,
    onFailure: (id, error) => logger.warn({ sessionID: id, err: String(error) }, "ending an idle session failed; will try again"),
  });

  return {
    async reapOnce(signal?: AbortSignal): Promise<string[]> {
      const at = now();
      const reaped: string[] = [];
      const live = await store.sessions.listAll({ states: ["running", "idle"] });
      backoff.keepOnly(live.map((session) => session.id));
      for (const session of live) {
        if (signal?.aborted) break;
        if (session.sandboxID === null || backoff.waiting(session.id) || attempts.busy(session.id)) continue;
        const last = Math.max(
          startedAt,
          Date.parse(session.startedAt ?? session.createdAt),
          activity.lastSeen(session.sandboxID) ?? 0,
        );
        if (at - last < idleTimeoutMs) continue;
        logger.info({ sessionID: session.id, idleSeconds: Math.round((at - last) / 1000) }, "session idle past its timeout");
        if ((await attempts.attempt(session.id, () => runner.end(session, ending))) === "done") reaped.push(session.id);
      }
      return reaped;
    },
  };
}

export type IdleReaper = ReturnType<typeof createIdleReaper>;
