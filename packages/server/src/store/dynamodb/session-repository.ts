import { CiabError, sessionStates, type SessionState } from "@ciab/protocol";
import type { SessionRepository } from "../store.js";
import type { SessionRecord } from "../records.js";
import { idTime, newID } from "../../ids.js";
import { absent, type DynamoTable, type TransactItem } from "./dynamodb-table.js";
import { byID, fromItem, mainKey, modify, putTransactItem, toItem, type ItemLayout } from "./dynamodb-items.js";

export const sessionLayout: ItemLayout<SessionRecord> = {
  kind: "session",
  keys: (record) => ({
    ...mainKey("session", record.id),
    gsi1pk: `session#${record.workspaceID}`,
    gsi1sk: record.id,
    gsi2pk: `session-state#${record.state}`,
    gsi2sk: record.id,
  }),
};

const gatewayKey = (hash: string) => mainKey("session-gateway", hash);

/** The gateway token's lookup item, kept beside the session in the same transaction. */
function gatewayItems(table: DynamoTable, before: string | null, after: string | null, sessionID: string): TransactItem[] {
  if (before === after) return [];
  const items: TransactItem[] = [];
  if (before !== null) items.push({ Delete: { TableName: table.name, Key: gatewayKey(before) } });
  if (after !== null) items.push(putTransactItem(table, { ...gatewayKey(after), itemType: "session-gateway", sessionID }));
  return items;
}

export function createSessionRepository(table: DynamoTable): SessionRepository {
  const key = (id: string) => mainKey("session", id);

  async function byStates(states: readonly SessionState[]): Promise<SessionRecord[]> {
    const lists = await Promise.all(states.map((state) => table.query({ index: "gsi2", partition: `session-state#${state}` })));
    return lists.flat().map((item) => fromItem<SessionRecord>(item)).sort(byID);
  }

  return {
    async create(record) {
      const created = await table.transact([
        putTransactItem(table, toItem(sessionLayout, record, 1), absent),
        ...gatewayItems(table, null, record.gatewayTokenHash, record.id),
      ]);
      if (!created) throw new CiabError("already_exists", `session ${record.id} exists`);
    },
    async get(workspaceID, id) {
      const item = await table.get(key(id));
      return item && item.workspaceID === workspaceID ? fromItem<SessionRecord>(item) : undefined;
    },
    async getAny(id) {
      const item = await table.get(key(id));
      return item && fromItem<SessionRecord>(item);
    },
    async list(workspaceID, filter = {}) {
      const items = await table.query({
        index: "gsi1",
        partition: `session#${workspaceID}`,
        descending: true,
        limit: filter.limit ?? 1000,
        keep: (item) => !filter.states?.length || filter.states.includes(item.state as SessionState),
      });
      return items.map((item) => fromItem<SessionRecord>(item));
    },
    listAll(filter = {}) {
      return byStates(filter.states?.length ? filter.states : sessionStates);
    },
    async findByGatewayToken(hash) {
      const lookup = await table.get(gatewayKey(hash));
      if (!lookup) return undefined;
      const item = await table.get(key(String(lookup.sessionID)));
      return item && item.gatewayTokenHash === hash ? fromItem<SessionRecord>(item) : undefined;
    },
    async ownerOf(workspaceID, sandboxID) {
      // Ids sort by time: the owner was made before its sandbox, and within a day of it, which bounds the read.
      const madeAt = idTime(sandboxID);
      if (madeAt === undefined) return undefined;
      const [item] = await table.query({
        index: "gsi1",
        partition: `session#${workspaceID}`,
        after: newID("ses", madeAt - 86_400_000).slice(0, 14),
        through: newID("ses", madeAt + 1).slice(0, 14),
        descending: true,
        limit: 1,
        keep: (candidate) => candidate.sandboxID === sandboxID && candidate.ownsSandbox === true,
      });
      // The index is eventually consistent: the session's state as of now comes from the table.
      const current = item && (await table.get(key(String(item.id))));
      return current && fromItem<SessionRecord>(current);
    },
    async update(id, patch) {
      const updated = await modify(
        table,
        sessionLayout,
        key(id),
        () => ({ ...patch, updatedAt: new Date().toISOString() }),
        (current, next) => gatewayItems(table, current.gatewayTokenHash, next.gatewayTokenHash, id),
      );
      if (!updated) throw new CiabError("not_found", `session ${id} not found`);
      return updated;
    },
    async addUsage(id, usage) {
      // An in-place ADD (not retried: a second try could count twice); it moves the version, so a concurrent
      // read-modify-write of the session starts over instead of writing the old totals back.
      await table.update(
        key(id),
        {
          expression: "ADD #input :input, #output :output, #cost :cost, #version :one",
          names: { "#input": "inputTokens", "#output": "outputTokens", "#cost": "costUSD", "#version": "itemVersion" },
          values: { ":input": usage.inputTokens, ":output": usage.outputTokens, ":cost": usage.costUSD, ":one": 1 },
        },
        { expression: "attribute_exists(pk)" },
      );
    },
  };
}
