import { CiabError } from "@ciab/protocol";
import { hourKey, hourStart, openCost } from "../store/metering.js";
import type { Store } from "../store/store.js";
import { liveStates } from "./sandbox-service.js";

export interface BudgetServiceDependencies {
  store: Store;
  /** `[budget] max_hourly_usd`; no cap when absent. */
  maxHourlyUSD: number | undefined;
  now?: () => number;
}

/** The workspace's spending cap: checked before anything new gets a machine. */
export function createBudgetService(dependencies: BudgetServiceDependencies) {
  const { store } = dependencies;
  const now = dependencies.now ?? Date.now;

  /** What a workspace's sandboxes cost within the current clock hour: the ledger plus the open intervals. */
  async function hourlySpend(workspaceID: string, at = now()): Promise<number> {
    const start = hourStart(at);
    const folded = await store.usage.workspaceHourCost(workspaceID, hourKey(at));
    const live = await store.sandboxes.list(workspaceID, { states: liveStates });
    return live.reduce((sum, sandbox) => sum + openCost(sandbox.meteredSince, sandbox.usdPerHour, at, start), folded);
  }

  return {
    hourlySpend,

    /** Throws `cost_cap_reached` once the workspace has burned its hourly cap. */
    async checkCap(workspaceID: string): Promise<void> {
      const cap = dependencies.maxHourlyUSD;
      if (cap === undefined) return;
      const at = now();
      const spent = await hourlySpend(workspaceID, at);
      if (spent < cap) return;
      const resetsAt = new Date(hourStart(at) + 3_600_000).toISOString();
      throw new CiabError(
        "cost_cap_reached",
        `this workspace spent $${spent.toFixed(4)} this hour, at or over its cap of $${cap} ([budget] max_hourly_usd); try again after ${resetsAt}`,
        { context: { cap_usd: cap, spent_usd: spent, resets_at: resetsAt } },
      );
    },
  };
}

export type BudgetService = ReturnType<typeof createBudgetService>;
