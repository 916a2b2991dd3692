import { CiabError } from "@ciab/protocol";
import type { ApprovalRecord, AuditRecord } from "../approval-audit-records.js";
import type { ApprovalRepository, AuditRepository } from "../store.js";
import type { DynamoTable, Item } from "./dynamodb-table.js";
import { createItem, fromItem, mainKey, modify, putTransactItem, type ItemLayout } from "./dynamodb-items.js";

const approvalLayout: ItemLayout<ApprovalRecord> = {
  kind: "approval",
  keys: (record) => ({ ...mainKey("approval", record.id), gsi1pk: `approval#${record.workspaceID}`, gsi1sk: record.id }),
};

const auditLayout: ItemLayout<AuditRecord> = {
  kind: "audit",
  keys: (record) => ({ ...mainKey("audit", record.id), gsi1pk: `audit#${record.workspaceID}`, gsi1sk: record.id }),
};

/** An approval item up to this size holds its outcome itself; DynamoDB refuses items over 400 KB. */
const inlineItemBytes = 300_000;
/** Characters of a sealed outcome (base64: one byte each) per part item, beside the approval in its partition. */
const outcomePartBytes = 300_000;
/** Parts written with the approval in one transaction (DynamoDB takes 4 MB). */
const maxOutcomeParts = 10;
const outcomePrefix = "outcome#";

export function createApprovalRepository(table: DynamoTable): ApprovalRepository {
  const key = (id: string) => mainKey("approval", id);

  /**
   * The record of an item: an outcome too big to sit in the approval's item (its sealed arguments may fill
   * most of it) is kept in `outcomeParts` part items of the approval's partition, written in the same
   * transaction as the item that counts them.
   */
  async function recordOf(item: Item): Promise<ApprovalRecord> {
    const { outcomeParts, ...stored } = fromItem<ApprovalRecord & { outcomeParts?: number }>(item);
    // Items written before notes were kept have no such attribute.
    const record = { ...stored, decisionNote: stored.decisionNote ?? null };
    if (!outcomeParts) return record;
    const parts = await table.query({ partition: key(record.id).pk, beginsWith: outcomePrefix, limit: outcomeParts });
    if (parts.length !== outcomeParts) throw new CiabError("internal", `approval ${record.id} has ${parts.length} of its ${outcomeParts} outcome parts`);
    return { ...record, sealedOutcome: parts.map((part) => String(part.chunk)).join("") };
  }

  return {
    async create(record) {
      if (!(await createItem(table, approvalLayout, record))) throw new CiabError("already_exists", `approval ${record.id} exists`);
    },
    async get(workspaceID, id) {
      const item = await table.get(key(id));
      return item && item.workspaceID === workspaceID ? recordOf(item) : undefined;
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
      return Promise.all(items.map((item) => recordOf(item)));
    },
    async decide(id, state, decidedBy, now, note = null) {
      // One conditional update: of two deciders only one finds the approval still pending.
      const decided = await table.update(
        key(id),
        {
          expression: "SET #state = :state, #by = :by, #at = :now, #note = :note ADD #version :one",
          names: { "#state": "state", "#by": "decidedBy", "#at": "decidedAt", "#note": "decisionNote", "#version": "itemVersion", "#expires": "expiresAt" },
          values: { ":state": state, ":by": decidedBy, ":now": now, ":note": note, ":pending": "pending", ":one": 1 },
        },
        { expression: `attribute_exists(pk) AND #state = :pending AND #expires ${state === "expired" ? "<=" : ">"} :now` },
        { retry: true },
      );
      return decided !== undefined;
    },
    async setOutcome(id, sealedOutcome) {
      const parts: string[] = [];
      for (let offset = 0; offset < sealedOutcome.length; offset += outcomePartBytes) parts.push(sealedOutcome.slice(offset, offset + outcomePartBytes));
      await modify(
        table,
        approvalLayout,
        key(id),
        (current) => {
          if (Buffer.byteLength(JSON.stringify(current)) + sealedOutcome.length <= inlineItemBytes) return { sealedOutcome };
          if (parts.length > maxOutcomeParts) {
            throw new CiabError("payload_too_large", `the outcome of approval ${id} is ${sealedOutcome.length} bytes sealed; at most ${maxOutcomeParts * outcomePartBytes} are stored`);
          }
          return { sealedOutcome: null, outcomeParts: parts.length } as Partial<ApprovalRecord>;
        },
        (_current, next) =>
          (next as { outcomeParts?: number }).outcomeParts === undefined
            ? []
            : parts.map((chunk, index) =>
                putTransactItem(table, { pk: key(id).pk, sk: `${outcomePrefix}${String(index).padStart(4, "0")}`, itemType: "approval-outcome", chunk }),
              ),
      );
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
