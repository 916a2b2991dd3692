import type { Logger } from "../logger.js";
import type { SandboxService } from "../services/sandbox-service.js";
import { liveStates } from "../services/sandbox-service.js";
import type { SessionRunner } from "../services/session-runner.js";
import type { SessionEnding } from "../services/session-transitions.js";
import type { SessionRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { createFailureBackoff } from "./failure-backoff.js";
import { createItemAttempts } from "./item-attempts.js";

export interface MaxRuntimeKillerDependencies {
  store: Store;
  runner: Pick<SessionRunner, "end">;
  sandboxes: Pick<SandboxService, "delete">;
  /** `[budget] max_runtime_minutes` in milliseconds. */
  maxRuntimeMs: number;
  logger: Logger;
  now?: () => number;
  /** How long a pass waits on one end before going on (item-attempts.ts); by default until it is over. */
  itemWaitMs?: number | undefined;
}

const liveSessionStates: SessionRecord["state"][] = ["pending", "starting", "running", "idle"];

/**
 * Ends what outlived `[budget] max_runtime_minutes`, busy or not: sessions fail with `max_runtime` (their own
 * sandbox goes with them), and sandboxes past the limit are deleted with that end reason, after the sessions
 * running in them are ended. A session or sandbox whose end fails is logged and sits out a backoff; the
 * others are still ended.
 */
export function createMaxRuntimeKiller(dependencies: MaxRuntimeKillerDependencies) {
  const { store, runner, sandboxes, maxRuntimeMs, logger } = dependencies;
  const now = dependencies.now ?? Date.now;
  const minutes = Number((maxRuntimeMs / 60_000).toFixed(3));
  const ending: SessionEnding = {
    state: "failed",
    endReason: "max_runtime",
    reason: "max_runtime",
    message: `ran longer than [budget] max_runtime_minutes (${minutes})`,
  };
  const system = (workspaceID: string) => ({ userID: "system", workspaceID, role: "admin" as const, installationAdmin: false, tokenID: "system" });
  const backoff = createFailureBackoff({ now });
  const attempts = createItemAttempts(backoff, {
    itemWaitMs: dependencies.itemWaitMs,
    onFailure: (id, error) => logger.warn({ id, err: String(error) }, "ending what outlived its max runtime failed; will try again"),
  });

  /** Runs `end` for the item unless it waits out a backoff or is still ending; answers whether it is over. */
  async function attempt(id: string, end: () => Promise<unknown>): Promise<boolean> {
    return (await attempts.attempt(id, end)) === "done";
  }

  return {
    async killOnce(signal?: AbortSignal): Promise<{ sessions: string[]; sandboxes: string[] }> {
      const at = now();
      const ended: string[] = [];
      const deleted: string[] = [];
      const live = await store.sessions.listAll({ states: liveSessionStates });
      const endedSandboxes = new Set<string>();
      for (const session of live) {
        if (signal?.aborted) break;
        if (at - Date.parse(session.createdAt) < maxRuntimeMs) continue;
        logger.info({ sessionID: session.id }, "session reached its max runtime");
        if (!(await attempt(session.id, () => runner.end(session, ending)))) continue;
        ended.push(session.id);
        if (session.ownsSandbox && !session.keepSandbox && session.sandboxID) endedSandboxes.add(session.sandboxID);
      }
      const liveSandboxes = await store.sandboxes.listAll({ states: liveStates });
      backoff.keepOnly([...live.map((session) => session.id), ...liveSandboxes.map((sandbox) => sandbox.id)]);
      for (const sandbox of liveSandboxes) {
        if (signal?.aborted) break;
        if (sandbox.state === "terminating" || endedSandboxes.has(sandbox.id)) continue;
        if (at - Date.parse(sandbox.createdAt) < maxRuntimeMs) continue;
        let sessionsEnded = true;
        for (const session of live) {
          if (session.sandboxID !== sandbox.id || ended.includes(session.id)) continue;
          if (await attempt(session.id, () => runner.end(session, ending))) ended.push(session.id);
          else sessionsEnded = false;
        }
        // A sandbox is deleted only after the sessions in it have ended.
        if (!sessionsEnded) continue;
        logger.info({ sandboxID: sandbox.id }, "sandbox reached its max runtime");
        if (await attempt(sandbox.id, () => sandboxes.delete(system(sandbox.workspaceID), sandbox.id, { endReason: "max_runtime" }))) {
          deleted.push(sandbox.id);
        }
      }
      return { sessions: ended, sandboxes: deleted };
    },
  };
}

export type MaxRuntimeKiller = ReturnType<typeof createMaxRuntimeKiller>;
