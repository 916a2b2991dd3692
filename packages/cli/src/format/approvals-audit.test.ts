import { expect, test } from "vitest";
import type { Approval, AuditEntry } from "@ciab/protocol";
import { formatApprovalTable, formatAuditTable } from "./approvals-audit.js";

const approval: Approval = {
  id: "apr_1",
  state: "pending",
  tool: "write_file",
  session_id: "ses_1",
  sandbox_id: "sbx_1",
  requested_by: "usr_1",
  summary: { path: "/etc/\u001b[2Jhosts", mode: null, bytes: 3 },
  args_digest: "ab",
  reason: "rule",
  created_at: "2026-01-01T00:00:00.000Z",
  expires_at: "2026-01-01T00:15:00.000Z",
  decided_by: null,
  decided_at: null,
  decision_note: null,
  outcome: null,
};

test("approvals show what a held call would do, without escape sequences", () => {
  const text = formatApprovalTable([approval, { ...approval, id: "apr_2", state: "approved", outcome: { status: "failed", error: { code: "forbidden", message: "x" } } }]);
  expect(text).toContain("path=/etc/hosts bytes=3");
  expect(text).not.toContain("\u001b[2J");
  expect(text).toContain("failed: forbidden");
  expect(formatApprovalTable([])).toBe("no approvals");
});

test("audit entries read as one line each, errors with their code", () => {
  const entry: AuditEntry = {
    id: "aud_1",
    tool: "exec.run",
    actor: "usr_1",
    sandbox_id: "sbx_1",
    session_id: null,
    args_digest: "0123456789abcdef",
    result: "error",
    error_code: "exec_timeout",
    approval_id: null,
    duration_ms: 12,
    created_at: "2026-01-01T00:00:00.000Z",
  };
  const lines = formatAuditTable([entry]).split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain("error: exec_timeout");
  expect(lines[1]).toContain("0123456789ab");
  expect(formatAuditTable([])).toBe("no audit entries");
});
