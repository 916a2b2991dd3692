import { CiabError } from "@ciab/protocol";
import type { ApprovalRecord, AuditRecord } from "../approval-audit-records.js";
import type { ApprovalRepository, AuditRepository } from "../store.js";
import type { DynamoTable } from "./dynamodb-table.js";
import { createItem, fromItem, mainKey, modify, type ItemLayout } from "./dynamodb-items.js";

const approvalLayout: ItemLayout<ApprovalRecord> = {
  kind: "approval",
  keys: (record) => ({ ...mainKey("approval", record.id), gsi1pk: `approval#${record.workspaceID}`, gsi1sk: record.id }),
};

const auditLayout: ItemLayout<AuditRecord> = {
  kind: "audit",
  keys: (record) => ({ ...mainKey("audit", record.id), gsi1pk: `audit#${record.workspaceID}`, gsi1sk: record.id }),
};

export function createApprovalRepository(table: DynamoTable): ApprovalRepository {
  const key = (id: string) => mainKey("approval", id);
  return {
    async create(record) {
      if (!(await createItem(table, approvalLayout, record))) throw new CiabError("already_exists", `approval ${record.id} exists`);
    },
    async get(workspaceID, id) {
      const item = await table.get(key(id));
      return item && item.workspaceID === workspaceID ? fromItem<ApprovalRecord>(item) : undefined;
    },
    async list(workspaceID, filter) {
      const items = await table.query({
        index: "gsi1",
        partition: `approval#${workspaceID}`,
        after: filter.after,
        limit: filter.limit,
        keep: (item) =>
          (filter.state === undefined || item.state === filter.state) &&
          (filter.sessionID === undefined || item.sessionID === filter.sessionID) &&
          (filter.userID === undefined || item.userID === filter.userID),
      });
      return items.map((item) => fromItem<ApprovalRecord>(item));
    },
    async decide(id, state, decidedBy, now) {
      // One conditional update: of two deciders only one finds the approval still pending.
      const decided = await table.update(
        key(id),
        {
          expression: "SET #state = :state, #by = :by, #at = :now ADD #version :one",
          names: { "#state": "state", "#by": "decidedBy", "#at": "decidedAt", "#version": "itemVersion", "#expires": "expiresAt" },
          values: { ":state": state, ":by": decidedBy, ":now": now, ":pending": "pending", ":one": 1 },
        },
        { expression: `attribute_exists(pk) AND #state = :pending AND #expires ${state === "expired" ? "<=" : ">"} :now` },
        { retry: true },
      );
      return decided !== undefined;
    },
    async setOutcome(id, sealedOutcome) {
      await modify(table, approvalLayout, key(id), () => ({ sealedOutcome }));
    },
  };
}

export function createAuditRepository(table: DynamoTable): AuditRepository {
  return {
    async append(record) {
      if (!(await createItem(table, auditLayout, record))) throw new CiabError("already_exists", `audit entry ${record.id} exists`);
    },
    async list(workspaceID, filter) {
      const items = await table.query({
        index: "gsi1",
        partition: `audit#${workspaceID}`,
        after: filter.after,
        limit: filter.limit,
        keep: (item) =>
          (filter.sandboxID === undefined || item.sandboxID === filter.sandboxID) &&
          (filter.sessionID === undefined || item.sessionID === filter.sessionID) &&
          (filter.actor === undefined || item.actor === filter.actor) &&
          (filter.tool === undefined || item.tool === filter.tool) &&
          (filter.since === undefined || String(item.createdAt) >= filter.since) &&
          (filter.until === undefined || String(item.createdAt) < filter.until),
      });
      return items.map((item) => fromItem<AuditRecord>(item));
    },
  };
}
