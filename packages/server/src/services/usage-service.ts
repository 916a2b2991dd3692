import { CiabError, usageGroupKeys, type RuntimeName, type UsageGroupKey, type UsageReport, type UsageRow } from "@ciab/protocol";
import type { Store } from "../store/store.js";
import type { Principal } from "./auth-service.js";
import { liveStates } from "./sandbox-service.js";

const dayMs = 86_400_000;
/** The widest report: a year of days. */
const maximumDays = 366;
/** Ledger groups read per report; a workspace × user × runtime × day count past this is cut. */
const maximumGroups = 100_000;

export interface UsageQueryInput {
  from?: string | undefined;
  to?: string | undefined;
  group_by?: UsageGroupKey[] | undefined;
  workspace_id?: string | undefined;
}

/**
 * Compute usage from the hourly ledger. Installation admins see every workspace (or one, by `workspace_id`);
 * everyone else (workspace admins too) sees their own workspace only. Live sandboxes are folded first, so the report is current.
 */
export function createUsageService(store: Store, now: () => number = Date.now) {
  return {
    async report(principal: Principal, query: UsageQueryInput): Promise<UsageReport> {
      let workspaceID: string | undefined = query.workspace_id;
      if (!principal.installationAdmin) {
        if (workspaceID !== undefined && workspaceID !== principal.workspaceID) {
          throw new CiabError("forbidden", "only installation admins see the usage of other workspaces");
        }
        workspaceID = principal.workspaceID;
      }
      const at = now();
      const to = query.to ?? new Date(at).toISOString().slice(0, 10);
      const from = query.from ?? new Date(Date.parse(to) - 29 * dayMs).toISOString().slice(0, 10);
      const days = (Date.parse(to) - Date.parse(from)) / dayMs + 1;
      if (!Number.isFinite(days) || days < 1) throw new CiabError("invalid_request", `from (${from}) is after to (${to})`);
      if (days > maximumDays) throw new CiabError("invalid_request", `at most ${maximumDays} days per report (got ${days})`);
      const groupBy = query.group_by ?? [...usageGroupKeys];

      const live = workspaceID === undefined ? await store.sandboxes.listAll({ states: liveStates }) : await store.sandboxes.list(workspaceID, { states: liveStates });
      const foldAt = new Date(at);
      for (const sandbox of live) if (sandbox.meteredSince !== null) await store.sandboxes.accrue(sandbox.id, foldAt);

      const aggregates = await store.usage.aggregate({
        ...(workspaceID !== undefined && { workspaceID }),
        fromHour: `${from}T00`,
        toHour: `${to}T23`,
        limit: maximumGroups,
      });
      const rows = new Map<string, UsageRow>();
      let total = 0;
      for (const aggregate of aggregates) {
        const fields: Record<UsageGroupKey, string> = {
          workspace: aggregate.workspaceID,
          user: aggregate.userID,
          runtime: aggregate.runtime,
          day: aggregate.day,
        };
        const key = groupBy.map((name) => fields[name]).join("\u0000");
        const row = rows.get(key) ?? {
          ...(groupBy.includes("workspace") && { workspace_id: aggregate.workspaceID }),
          ...(groupBy.includes("user") && { user_id: aggregate.userID }),
          ...(groupBy.includes("runtime") && { runtime: aggregate.runtime as RuntimeName }),
          ...(groupBy.includes("day") && { day: aggregate.day }),
          machine_seconds: 0,
          cost_usd: 0,
        };
        row.machine_seconds += aggregate.seconds;
        row.cost_usd += aggregate.costUSD;
        total += aggregate.costUSD;
        rows.set(key, row);
      }
      return { from, to, group_by: groupBy, rows: [...rows.values()], total_usd: total };
    },
  };
}

export type UsageService = ReturnType<typeof createUsageService>;
