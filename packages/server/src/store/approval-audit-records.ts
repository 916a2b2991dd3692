import type { ApprovalState } from "@ciab/protocol";

/** A tool call a policy rule held until an admin decides (`apr_…`). */
export interface ApprovalRecord {
  id: string;
  workspaceID: string;
  /** Who asked: the call runs as them once approved. */
  userID: string;
  sessionID: string;
  sandboxID: string;
  tool: string;
  /** JSON: what the admin is shown (path, mode, bytes and sha256 of the content), never the content. */
  summary: string;
  argsDigest: string;
  /** The call's arguments, sealed with the data key: they may hold file contents. */
  sealedArgs: string;
  reason: string;
  state: ApprovalState;
  createdAt: string;
  expiresAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  /** The deciding admin's note (user text, at most 1024 characters): stored as given, never interpreted. */
  decisionNote: string | null;
  /** The approved call's result or error, sealed (a shell's output may hold anything). */
  sealedOutcome: string | null;
}

/** One tool call in the audit trail. */
export interface AuditRecord {
  id: string;
  workspaceID: string;
  actor: string;
  tool: string;
  sandboxID: string | null;
  sessionID: string | null;
  argsDigest: string;
  result: "ok" | "error" | "approval_pending";
  errorCode: string | null;
  approvalID: string | null;
  durationMs: number;
  createdAt: string;
}
