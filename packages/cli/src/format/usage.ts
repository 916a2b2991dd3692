import type { UsageReport } from "@ciab/protocol";
import { formatTable } from "./table.js";
import { formatUSD } from "./usd.js";

const columns = [
  { key: "workspace", header: "WORKSPACE", cell: (row: UsageReport["rows"][number]) => row.workspace_id ?? "" },
  { key: "user", header: "USER", cell: (row: UsageReport["rows"][number]) => row.user_id ?? "" },
  { key: "runtime", header: "RUNTIME", cell: (row: UsageReport["rows"][number]) => row.runtime ?? "" },
  { key: "day", header: "DAY", cell: (row: UsageReport["rows"][number]) => row.day ?? "" },
] as const;

/** What `ciab usage` prints: one row per group, the grouped columns only, then the total. */
export function formatUsageTable(report: UsageReport): string {
  const shown = columns.filter((column) => report.group_by.includes(column.key));
  const period = `${report.from} .. ${report.to}`;
  if (report.rows.length === 0) return `no usage ${period}`;
  const table = formatTable(
    [...shown.map((column) => column.header), "HOURS", "COST"],
    report.rows.map((row) => [...shown.map((column) => column.cell(row)), (row.machine_seconds / 3600).toFixed(2), formatUSD(row.cost_usd)]),
  );
  return `${table}\ntotal ${formatUSD(report.total_usd)} (${period})`;
}
