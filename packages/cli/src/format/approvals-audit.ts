import type { Approval, AuditEntry } from "@ciab/protocol";
import { stripControlSequences } from "../terminal/terminal-text.js";
import { formatTable } from "./table.js";

/** What a held call would do, on one line: its path and size, never contents. */
function summaryText(summary: Record<string, unknown>): string {
  const parts = Object.entries(summary)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  return stripControlSequences(parts.join(" ")).slice(0, 160);
}

export function formatApprovalTable(approvals: readonly Approval[]): string {
  if (approvals.length === 0) return "no approvals";
  return formatTable(
    ["ID", "STATE", "TOOL", "SESSION", "BY", "EXPIRES", "OUTCOME", "WHAT"],
    approvals.map((approval) => [
      approval.id,
      approval.state,
      approval.tool,
      approval.session_id,
      approval.requested_by,
      approval.expires_at,
      approval.outcome ? (approval.outcome.status === "succeeded" ? "succeeded" : `failed: ${approval.outcome.error?.code ?? "?"}`) : "-",
      summaryText(approval.summary),
    ]),
  );
}

export function formatAuditTable(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return "no audit entries";
  return formatTable(
    ["TIME", "TOOL", "ACTOR", "SANDBOX", "SESSION", "RESULT", "MS", "ARGS"],
    entries.map((entry) => [
      entry.created_at,
      entry.tool,
      entry.actor,
      entry.sandbox_id ?? "-",
      entry.session_id ?? "-",
      entry.error_code ? `${entry.result}: ${entry.error_code}` : entry.result,
      String(entry.duration_ms),
      entry.args_digest.slice(0, 12),
    ]),
  );
}
