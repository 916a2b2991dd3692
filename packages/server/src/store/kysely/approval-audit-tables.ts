/** Rows of migration 0007 (approvals, audit_entries), with 0011's `decision_note`. */
export interface ApprovalRow {
  id: string;
  workspace_id: string;
  user_id: string;
  session_id: string;
  sandbox_id: string;
  tool: string;
  summary: string;
  args_digest: string;
  sealed_args: string;
  reason: string;
  state: string;
  created_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
  sealed_outcome: string | null;
}

export interface AuditRow {
  id: string;
  workspace_id: string;
  actor: string;
  tool: string;
  sandbox_id: string | null;
  session_id: string | null;
  args_digest: string;
  result: string;
  error_code: string | null;
  approval_id: string | null;
  duration_ms: number;
  created_at: string;
}
