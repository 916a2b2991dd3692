import { CiabError } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import type { Principal } from "../services/auth-service.js";
import type { SandboxService } from "../services/sandbox-service.js";
import type { SandboxRecord, SessionRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { createFailureBackoff } from "./failure-backoff.js";
import { createItemAttempts } from "./item-attempts.js";

export interface SandboxLifetimeDependencies {
  store: Store;
  sandboxes: Pick<SandboxService, "pause" | "delete" | "extendLife" | "startRetention">;
  /** `[sandboxes] batch_size`: the most sandboxes one pass looks at. */
  batchSize: number;
  logger: Logger;
  now?: () => number;
  /** How long a pass waits on one sandbox's ending before going on (item-attempts.ts); by default until it is over. */
  itemWaitMs?: number | undefined;
}

/** The most sandboxes in backoff a pass lists past, in batches: beyond it, the oldest ids take the turns. */
const maxSkippedBatches = 10;

const liveSessionStates: SessionRecord["state"][] = ["pending", "starting", "running", "idle"];

/**
 * Ends sandboxes whose time is up (docs/decisions/0027-lifetimes-and-accounts.md): a ready sandbox past its
 * `expiresAt` is paused or deleted as its `onTimeout` says (deleted where the runtime cannot pause); a paused
 * one past `deleteAfter` is deleted. Deadlines live in the store, so a restarted control plane carries on
 * where the last one stopped; a sandbox a live session uses gets its deadline moved on instead (the
 * session's own limits rule). One bounded batch per pass; a sandbox whose ending failed sits out a backoff
 * (failure-backoff.ts) and the batch is filled from the sandboxes after it, so a batch of sandboxes that keep
 * failing does not starve the rest.
 */
export function createSandboxLifetimes(dependencies: SandboxLifetimeDependencies) {
  const { store, sandboxes, batchSize, logger } = dependencies;
  const now = dependencies.now ?? Date.now;
  const backoff = createFailureBackoff({ now });
  const attempts = createItemAttempts(backoff, {
    itemWaitMs: dependencies.itemWaitMs,
    onFailure: (id, error) => logger.warn({ sandboxID: id, err: String(error) }, "ending a sandbox past its lifetime failed; will try again"),
  });
  const system = (workspaceID: string): Principal => ({ userID: "system", workspaceID, role: "admin", installationAdmin: false, tokenID: "system" });

  async function timeOut(sandbox: SandboxRecord): Promise<"paused" | "deleted"> {
    if (sandbox.onTimeout !== "delete") {
      try {
        await sandboxes.pause(system(sandbox.workspaceID), sandbox.id);
        return "paused";
      } catch (error) {
        if (!(error instanceof CiabError && error.code === "capability_unsupported")) throw error;
      }
    }
    await sandboxes.delete(system(sandbox.workspaceID), sandbox.id, { endReason: "timeout" });
    return "deleted";
  }

  return {
    async checkOnce(signal?: AbortSignal): Promise<{ paused: string[]; deleted: string[]; extended: string[] }> {
      const result = { paused: [] as string[], deleted: [] as string[], extended: [] as string[] };
      const limit = batchSize + attempts.runningCount() + Math.min(backoff.waitingCount(), maxSkippedBatches * batchSize);
      const candidates = await store.sandboxes.listDue(new Date(now()), limit);
      if (candidates.length < limit) backoff.keepOnly(candidates.map((sandbox) => sandbox.id));
      const due = candidates.filter((sandbox) => !backoff.waiting(sandbox.id) && !attempts.busy(sandbox.id)).slice(0, batchSize);
      if (due.length === 0) return result;
      const held = new Set((await store.sessions.listAll({ states: liveSessionStates })).map((session) => session.sandboxID));
      for (const listed of due) {
        // At most a batch of endings carry on past their pass at once.
        if (signal?.aborted || attempts.runningCount() >= batchSize) break;
        await attempts.attempt(listed.id, () => end(listed, held, result));
      }
      return result;
    },
  };

  /** Ends, pauses or extends one due sandbox. */
  async function end(listed: SandboxRecord, held: Set<string | null>, result: { paused: string[]; deleted: string[]; extended: string[] }): Promise<void> {
    // Read again just before acting: a set-timeout, pause or resume may have landed since the list.
    const sandbox = await store.sandboxes.get(listed.workspaceID, listed.id);
    if (!sandbox || !isDue(sandbox, now())) return;
    if (held.has(sandbox.id) || (sandbox.state === "ready" && !sandbox.expiresAt)) {
      await (sandbox.state === "ready" ? sandboxes.extendLife(sandbox) : sandboxes.startRetention(sandbox));
      result.extended.push(sandbox.id);
    } else if (sandbox.state === "paused" && !sandbox.deleteAfter) {
      await sandboxes.startRetention(sandbox);
      result.extended.push(sandbox.id);
    } else if (sandbox.state === "ready") {
      const outcome = await timeOut(sandbox);
      logger.info({ sandboxID: sandbox.id, timeoutSeconds: sandbox.timeoutSeconds, outcome }, "sandbox timed out");
      result[outcome].push(sandbox.id);
    } else {
      logger.info({ sandboxID: sandbox.id, deleteAfter: sandbox.deleteAfter }, "paused sandbox past its retention");
      await sandboxes.delete(system(sandbox.workspaceID), sandbox.id, { endReason: "retention" });
      result.deleted.push(sandbox.id);
    }
  }
}

/** The store's `listDue` condition, for one row. */
function isDue(sandbox: SandboxRecord, at: number): boolean {
  if (sandbox.state === "ready") return !sandbox.expiresAt || Date.parse(sandbox.expiresAt) <= at;
  if (sandbox.state === "paused") return !sandbox.deleteAfter || Date.parse(sandbox.deleteAfter) <= at;
  return false;
}

export type SandboxLifetimeLoop = ReturnType<typeof createSandboxLifetimes>;
