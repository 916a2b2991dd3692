import type { Store } from "../store/store.js";
import { liveStates } from "../services/sandbox-service.js";

/**
 * Folds every billing sandbox's open interval into the hourly ledger, so usage reports and the hourly cap see
 * ledger rows that are at most one interval old. State changes fold on their own (the store does it); this
 * only keeps long-lived machines current.
 */
export function createCostAccrual(store: Store, now: () => Date = () => new Date()) {
  return {
    async accrueOnce(signal?: AbortSignal): Promise<number> {
      const at = now();
      let folded = 0;
      for (const sandbox of await store.sandboxes.listAll({ states: liveStates })) {
        if (signal?.aborted) break;
        if (sandbox.meteredSince === null) continue;
        await store.sandboxes.accrue(sandbox.id, at);
        folded += 1;
      }
      return folded;
    },
  };
}

export type CostAccrual = ReturnType<typeof createCostAccrual>;
