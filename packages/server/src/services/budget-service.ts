import { CiabError, type BudgetStatus } from "@ciab/protocol";
import { billsIn, hourKey, hourStart, openCost, unbilledMinimum } from "../store/metering.js";
import type { SandboxRecord } from "../store/records.js";
import type { Store, WorkspaceSpend } from "../store/store.js";
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
  /** The tail of each workspace's admissions in this process: one at a time, in order. */
  const admissions = new Map<string, Promise<unknown>>();

  /**
   * What a workspace's sandboxes cost within the clock hour of `at`: the ledger, the open intervals, and what
   * machines younger than a minute are committed to, so that creates in a row see each other's cost.
   */
  function spendOf({ foldedUSD, sandboxes }: WorkspaceSpend, at: number): number {
    const start = hourStart(at);
    return sandboxes
      .filter((sandbox) => liveStates.includes(sandbox.state))
      .reduce((sum, sandbox) => {
        const committed = billsIn(sandbox.state, sandbox.billsPaused) ? unbilledMinimum(sandbox.createdAt, sandbox.usdPerHour, at) : 0;
        return sum + openCost(sandbox.meteredSince, sandbox.usdPerHour, at, start) + committed;
      }, foldedUSD);
  }

  async function hourlySpend(workspaceID: string, at = now()): Promise<number> {
    const foldedUSD = await store.usage.workspaceHourCost(workspaceID, hourKey(at));
    const sandboxes = await store.sandboxes.list(workspaceID, { states: liveStates });
    return spendOf({ foldedUSD, sandboxes }, at);
  }

  function capReached(spent: number, cap: number, at: number): CiabError {
    const resetsAt = new Date(hourStart(at) + 3_600_000).toISOString();
    return new CiabError(
      "cost_cap_reached",
      `this workspace spent $${spent.toFixed(4)} this hour, at or over its cap of $${cap} ([budget] max_hourly_usd); try again after ${resetsAt}`,
      { context: { cap_usd: cap, spent_usd: spent, resets_at: resetsAt } },
    );
  }

  function serialized<T>(workspaceID: string, task: () => Promise<T>): Promise<T> {
    const previous = admissions.get(workspaceID) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(task);
    const tail = next.catch(() => undefined);
    admissions.set(workspaceID, tail);
    void tail.then(() => {
      if (admissions.get(workspaceID) === tail) admissions.delete(workspaceID);
    });
    return next;
  }

  return {
    hourlySpend,

    /** Where the workspace stands against its cap in this clock hour. */
    async status(workspaceID: string): Promise<BudgetStatus> {
      const at = now();
      const cap = dependencies.maxHourlyUSD;
      return {
        workspace_id: workspaceID,
        cap_usd: cap ?? null,
        spent_usd: await hourlySpend(workspaceID, at),
        resets_at: new Date(hourStart(at) + 3_600_000).toISOString(),
      };
    },

    /** Throws `cost_cap_reached` once the workspace has burned its hourly cap. */
    async checkCap(workspaceID: string): Promise<void> {
      const cap = dependencies.maxHourlyUSD;
      if (cap === undefined) return;
      const at = now();
      const spent = await hourlySpend(workspaceID, at);
      if (spent >= cap) throw capReached(spent, cap, at);
    },

    /**
     * Records a new sandbox unless its workspace is at its cap. The check and the insert of one workspace run
     * one at a time here, and in one guarded transaction of the store (createAdmitted) against other processes,
     * so that parallel creates cannot all pass a check that each alone would fail.
     */
    async admit(record: SandboxRecord): Promise<void> {
      const cap = dependencies.maxHourlyUSD;
      if (cap === undefined) return store.sandboxes.create(record);
      return serialized(record.workspaceID, () => {
        const at = now();
        return store.sandboxes.createAdmitted(record, hourKey(at), (spend) => {
          const spent = spendOf(spend, at);
          if (spent >= cap) throw capReached(spent, cap, at);
        });
      });
    },
  };
}

export type BudgetService = ReturnType<typeof createBudgetService>;
