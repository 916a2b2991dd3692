import type { Kysely } from "kysely";
import type { ApprovalRecord, AuditRecord } from "../approval-audit-records.js";
import type { ApprovalRepository, AuditRepository } from "../store.js";
import type { ApprovalRow, AuditRow } from "./approval-audit-tables.js";
import type { Tables } from "./tables.js";

function toApproval(row: ApprovalRow): ApprovalRecord {
  return {
    id: row.id,
    workspaceID: row.workspace_id,
    userID: row.user_id,
    sessionID: row.session_id,
    sandboxID: row.sandbox_id,
    tool: row.tool,
    summary: row.summary,
    argsDigest: row.args_digest,
    sealedArgs: row.sealed_args,
    reason: row.reason,
    state: row.state as ApprovalRecord["state"],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    decisionNote: row.decision_note,
    sealedOutcome: row.sealed_outcome,
  };
}

export function createApprovalRepository(db: Kysely<Tables>): ApprovalRepository {
  return {
    async create(record) {
      await db
        .insertInto("approvals")
        .values({
          id: record.id,
          workspace_id: record.workspaceID,
          user_id: record.userID,
          session_id: record.sessionID,
          sandbox_id: record.sandboxID,
          tool: record.tool,
          summary: record.summary,
          args_digest: record.argsDigest,
          sealed_args: record.sealedArgs,
          reason: record.reason,
          state: record.state,
          created_at: record.createdAt,
          expires_at: record.expiresAt,
          decided_by: record.decidedBy,
          decided_at: record.decidedAt,
          decision_note: record.decisionNote,
          sealed_outcome: record.sealedOutcome,
        })
        .execute();
    },
    async get(workspaceID, id) {
      const row = await db.selectFrom("approvals").selectAll().where("workspace_id", "=", workspaceID).where("id", "=", id).executeTakeFirst();
      return row && toApproval(row);
    },
    async list(workspaceID, filter) {
      let query = db.selectFrom("approvals").selectAll().where("workspace_id", "=", workspaceID);
      if (filter.state !== undefined) query = query.where("state", "=", filter.state);
      if (filter.sessionID !== undefined) query = query.where("session_id", "=", filter.sessionID);
      if (filter.userID !== undefined) query = query.where("user_id", "=", filter.userID);
      if (filter.after !== undefined) query = query.where("id", ">", filter.after);
      const rows = await query.orderBy("id").limit(filter.limit).execute();
      return rows.map(toApproval);
    },
    async decide(id, state, decidedBy, now, note = null) {
      let query = db
        .updateTable("approvals")
        .set({ state, decided_by: decidedBy, decided_at: now, decision_note: note })
        .where("id", "=", id)
        .where("state", "=", "pending");
      // Expiring needs the deadline passed; deciding needs it still ahead. Both in the one statement.
      query = state === "expired" ? query.where("expires_at", "<=", now) : query.where("expires_at", ">", now);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async setOutcome(id, sealedOutcome) {
      await db.updateTable("approvals").set({ sealed_outcome: sealedOutcome }).where("id", "=", id).execute();
    },
  };
}

function toAudit(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    workspaceID: row.workspace_id,
    actor: row.actor,
    tool: row.tool,
    sandboxID: row.sandbox_id,
    sessionID: row.session_id,
    argsDigest: row.args_digest,
    result: row.result as AuditRecord["result"],
    errorCode: row.error_code,
    approvalID: row.approval_id,
    durationMs: row.duration_ms,
    createdAt: row.created_at,
  };
}

export function createAuditRepository(db: Kysely<Tables>): AuditRepository {
  return {
    async append(record) {
      await db
        .insertInto("audit_entries")
        .values({
          id: record.id,
          workspace_id: record.workspaceID,
          actor: record.actor,
          tool: record.tool,
          sandbox_id: record.sandboxID,
          session_id: record.sessionID,
          args_digest: record.argsDigest,
          result: record.result,
          error_code: record.errorCode,
          approval_id: record.approvalID,
          duration_ms: record.durationMs,
          created_at: record.createdAt,
        })
        .execute();
    },
    async list(workspaceID, filter) {
      let query = db.selectFrom("audit_entries").selectAll().where("workspace_id", "=", workspaceID);
      if (filter.sandboxID !== undefined) query = query.where("sandbox_id", "=", filter.sandboxID);
      if (filter.sessionID !== undefined) query = query.where("session_id", "=", filter.sessionID);
      if (filter.actor !== undefined) query = query.where("actor", "=", filter.actor);
      if (filter.tool !== undefined) query = query.where("tool", "=", filter.tool);
      if (filter.since !== undefined) query = query.where("created_at", ">=", filter.since);
      if (filter.until !== undefined) query = query.where("created_at", "<", filter.until);
      if (filter.after !== undefined) query = query.where("id", ">", filter.after);
      const rows = await query.orderBy("id").limit(filter.limit).execute();
      return rows.map(toAudit);
    },
  };
}
