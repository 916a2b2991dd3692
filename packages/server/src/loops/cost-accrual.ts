import type { Store } from "../store/store.js";
import { liveStates } from "../services/sandbox-service.js";
import type { Logger } from "../logger.js";
import { createFailureBackoff } from "./failure-backoff.js";

/**
 * Folds every billing sandbox's open interval into the hourly ledger, so usage reports and the hourly cap see
 * ledger rows that are at most one interval old. State changes fold on their own (the store does it); this
 * only keeps long-lived machines current. A sandbox whose fold fails is logged and sits out a backoff; the
 * others are still folded.
 */
export function createCostAccrual(store: Store, now: () => Date = () => new Date(), logger?: Logger) {
  const backoff = createFailureBackoff({ now: () => now().getTime() });
  return {
    async accrueOnce(signal?: AbortSignal): Promise<number> {
      const at = now();
      let folded = 0;
      const live = await store.sandboxes.listAll({ states: liveStates });
      backoff.keepOnly(live.map((sandbox) => sandbox.id));
      for (const sandbox of live) {
        if (signal?.aborted) break;
        if (sandbox.meteredSince === null || backoff.waiting(sandbox.id)) continue;
        try {
          await store.sandboxes.accrue(sandbox.id, at);
          backoff.succeeded(sandbox.id);
          folded += 1;
        } catch (error) {
          backoff.failed(sandbox.id);
          logger?.warn({ sandboxID: sandbox.id, err: String(error) }, "folding a sandbox's cost failed; will try again");
        }
      }
      return folded;
    },
  };
}

export type CostAccrual = ReturnType<typeof createCostAccrual>;
