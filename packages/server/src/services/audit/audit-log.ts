import { appendFile } from "node:fs/promises";
import { CiabError, type AuditEntry, type AuditQuery } from "@ciab/protocol";
import { newID } from "../../ids.js";
import type { Logger } from "../../logger.js";
import type { AuditRecord } from "../../store/approval-audit-records.js";
import type { Store } from "../../store/store.js";
import type { Principal } from "../auth-service.js";
import { argumentDigest } from "./argument-digest.js";

/** One tool call to record. */
export interface AuditInput {
  workspaceID: string;
  actor: string;
  tool: string;
  sandboxID?: string | null | undefined;
  sessionID?: string | null | undefined;
  /** Digested, never stored (argument-digest.ts). */
  args: unknown;
  /** An error the call failed with; absent for success. */
  error?: unknown;
  pending?: boolean;
  approvalID?: string | null | undefined;
  durationMs: number;
}

export interface AuditLogDependencies {
  store: Store;
  /** `[audit] file`: also appended there as JSON lines. */
  file?: string | undefined;
  logger: Logger;
}

export function errorCodeOf(error: unknown): string {
  return error instanceof CiabError ? error.code : "internal";
}

export function auditEntryView(record: AuditRecord): AuditEntry {
  return {
    id: record.id,
    tool: record.tool,
    actor: record.actor,
    sandbox_id: record.sandboxID,
    session_id: record.sessionID,
    args_digest: record.argsDigest,
    result: record.result,
    error_code: record.errorCode,
    approval_id: record.approvalID,
    duration_ms: record.durationMs,
    created_at: record.createdAt,
  };
}

/**
 * The audit trail: every tool call with who, where, a digest of its arguments, how it ended and how long it
 * took. Recording never fails the call it records: a store or file error is logged instead.
 */
export function createAuditLog(dependencies: AuditLogDependencies) {
  const { store, logger } = dependencies;
  let fileWrites: Promise<void> = Promise.resolve();

  function appendToFile(record: AuditRecord): void {
    const file = dependencies.file;
    if (!file) return;
    const line = JSON.stringify({ ...auditEntryView(record), workspace_id: record.workspaceID }) + "\n";
    // Chained so lines land whole and in order.
    fileWrites = fileWrites
      .then(() => appendFile(file, line, { mode: 0o600 }))
      .catch((error: unknown) => logger.error({ err: String(error), file }, "cannot append to the audit file"));
  }

  return {
    async record(input: AuditInput): Promise<void> {
      const record: AuditRecord = {
        id: newID("aud"),
        workspaceID: input.workspaceID,
        actor: input.actor,
        tool: input.tool,
        sandboxID: input.sandboxID ?? null,
        sessionID: input.sessionID ?? null,
        argsDigest: argumentDigest(input.args),
        result: input.error !== undefined ? "error" : input.pending ? "approval_pending" : "ok",
        errorCode: input.error !== undefined ? errorCodeOf(input.error) : null,
        approvalID: input.approvalID ?? null,
        durationMs: Math.max(0, Math.round(input.durationMs)),
        createdAt: new Date().toISOString(),
      };
      try {
        await store.audit.append(record);
      } catch (error) {
        logger.error({ err: String(error), tool: record.tool }, "cannot record an audit entry");
      }
      appendToFile(record);
    },

    /** Workspace admins read the whole workspace's trail; members read their own calls. */
    async list(principal: Principal, query: AuditQuery): Promise<{ entries: AuditEntry[]; next: string | null }> {
      const admin = principal.role === "admin" || principal.installationAdmin;
      if (!admin && query.actor !== undefined && query.actor !== principal.userID) {
        throw new CiabError("forbidden", "members read only their own audit entries");
      }
      const records = await store.audit.list(principal.workspaceID, {
        sandboxID: query.sandbox_id,
        sessionID: query.session_id,
        actor: admin ? query.actor : principal.userID,
        tool: query.tool,
        since: query.since && new Date(query.since).toISOString(),
        until: query.until && new Date(query.until).toISOString(),
        after: query.cursor,
        limit: query.limit + 1,
      });
      const page = records.slice(0, query.limit);
      return { entries: page.map(auditEntryView), next: records.length > query.limit ? (page.at(-1)?.id ?? null) : null };
    },

    /** Resolves once every line so far is in the file (for shutdown and tests). */
    flush: () => fileWrites,
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
