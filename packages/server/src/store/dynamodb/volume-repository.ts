import { CiabError } from "@ciab/protocol";
import type { VolumeRecord } from "../records.js";
import type { VolumeRepository } from "../store.js";
import type { DynamoTable, Expression } from "./dynamodb-table.js";
import { createItem, fromItem, mainKey, type ItemLayout } from "./dynamodb-items.js";

const layout: ItemLayout<VolumeRecord> = {
  kind: "volume",
  keys: (record) => ({ ...mainKey("volume", record.id), gsi1pk: `volume#${record.workspaceID}`, gsi1sk: record.id }),
};

/** Condition: the volume is held by `holder` (null: by nobody). */
function heldBy(holder: string | null): Expression {
  return holder === null
    ? { expression: "attribute_exists(pk) AND (attribute_not_exists(#holder) OR attribute_type(#holder, :null))", names: { "#holder": "sandboxID" }, values: { ":null": "NULL" } }
    : { expression: "#holder = :holder", names: { "#holder": "sandboxID" }, values: { ":holder": holder } };
}

export function createVolumeRepository(table: DynamoTable): VolumeRepository {
  const key = (id: string) => mainKey("volume", id);
  return {
    async create(record) {
      if (!(await createItem(table, layout, record))) throw new CiabError("already_exists", `volume ${record.id} exists`);
    },
    async get(workspaceID, id) {
      const item = await table.get(key(id));
      return item && item.workspaceID === workspaceID ? fromItem<VolumeRecord>(item) : undefined;
    },
    async list(workspaceID, filter = {}) {
      const items = await table.query({
        index: "gsi1",
        partition: `volume#${workspaceID}`,
        keep: (item) => (filter.userID === undefined || item.userID === filter.userID) && (filter.runtime === undefined || item.runtime === filter.runtime),
      });
      return items.map((item) => fromItem<VolumeRecord>(item));
    },
    async claim(id, holder, sandboxID) {
      // Conditional on the holder: two sandboxes racing from the same holder, one wins.
      const claimed = await table.update(
        key(id),
        {
          expression: "SET #holder = :sandbox, #used = :used ADD #version :one",
          names: { "#used": "lastUsedAt", "#version": "itemVersion" },
          values: { ":sandbox": sandboxID, ":used": new Date().toISOString(), ":one": 1 },
        },
        heldBy(holder),
        { retry: true },
      );
      return claimed !== undefined;
    },
    async release(id, sandboxID) {
      await table.update(
        key(id),
        { expression: "SET #holder = :none ADD #version :one", names: { "#version": "itemVersion" }, values: { ":none": null, ":one": 1 } },
        heldBy(sandboxID),
        { retry: true },
      );
    },
    delete(workspaceID, id, holder) {
      const held = heldBy(holder);
      return table.delete(key(id), {
        expression: `#ws = :ws AND ${held.expression}`,
        names: { "#ws": "workspaceID", ...held.names },
        values: { ":ws": workspaceID, ...held.values },
      });
    },
  };
}
