import type { BudgetStatus, UsageGroupKey, UsageReport } from "@ciab/protocol";
import type { HttpClient } from "./http.js";

export interface UsageReportOptions {
  /** First UTC day, `YYYY-MM-DD`, inclusive; 30 days before `to` by default. */
  from?: string;
  /** Last UTC day, inclusive; today by default. */
  to?: string;
  groupBy?: UsageGroupKey[];
  /** Installation admins: one workspace instead of all. */
  workspaceID?: string;
  signal?: AbortSignal;
}

/** `ciab.usage`: compute usage and cost from the control plane's ledger. */
export class Usage {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  report(options: UsageReportOptions = {}): Promise<UsageReport> {
    return this.#http.json<UsageReport>("GET", "/api/v1/admin/usage", {
      query: {
        from: options.from,
        to: options.to,
        group_by: options.groupBy?.join(","),
        workspace_id: options.workspaceID,
      },
      signal: options.signal,
    });
  }

  /** The caller's workspace against its hourly cost cap, in this clock hour. */
  budget(options: { signal?: AbortSignal } = {}): Promise<BudgetStatus> {
    return this.#http.json<BudgetStatus>("GET", "/api/v1/budget", { signal: options.signal });
  }
}
