import type { BudgetStatus } from "@ciab/protocol";
import { useApi } from "../api-context.js";
import { ErrorBanner } from "../components/error-banner.js";
import { usd } from "../format.js";
import { useResource } from "../use-resource.js";

/**
 * The workspace's cost: this clock hour against the hourly cap (`[budget] max_hourly_usd`; past it, creates
 * are refused until the hour turns), the hourly ledger of the last 30 days by day, and what the sandboxes
 * listed now have cost so far.
 */
export function UsagePage() {
  const { api, whoami } = useApi();
  const report = useResource((signal) => api.usage(whoami.workspace_id, signal), whoami.workspace_id, 60_000);
  const sandboxes = useResource((signal) => api.sandboxes.list(signal), "usage-sandboxes", 30_000);
  const budget = useResource((signal) => api.budget(signal), "usage-budget", 30_000);
  const liveCost = (sandboxes.data ?? []).reduce((sum, sandbox) => sum + sandbox.cost_usd, 0);

  return (
    <section>
      <h1>Usage of {whoami.workspace_name}</h1>
      <ErrorBanner error={report.error ?? sandboxes.error ?? budget.error} />
      <dl className="facts">
        <dt>Ledger, {report.data ? `${report.data.from} to ${report.data.to}` : "last 30 days"}</dt>
        <dd data-testid="usage-total">{report.data ? usd(report.data.total_usd) : "…"}</dd>
        <dt>Sandboxes listed now, so far</dt>
        <dd>{sandboxes.data ? usd(liveCost) : "…"}</dd>
        <dt>This hour</dt>
        <dd data-testid="budget">{budget.data ? budgetLine(budget.data) : "…"}</dd>
      </dl>
      {report.data && report.data.rows.length > 0 && (
        <table className="list" aria-label="Usage by day">
          <thead>
            <tr>
              <th>Day</th>
              <th>Machine hours</th>
              <th>Cost</th>
            </tr>
          </thead>
          <tbody>
            {report.data.rows.map((row) => (
              <tr key={row.day ?? "all"}>
                <td>{row.day}</td>
                <td>{(row.machine_seconds / 3600).toFixed(2)}</td>
                <td>{usd(row.cost_usd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function budgetLine(budget: BudgetStatus): string {
  const spent = `${usd(budget.spent_usd)} spent`;
  if (budget.cap_usd === null) return `${spent}; no hourly cap is set`;
  return `${spent} of a ${usd(budget.cap_usd)} hourly cap; resets at ${new Date(budget.resets_at).toLocaleTimeString()}`;
}
