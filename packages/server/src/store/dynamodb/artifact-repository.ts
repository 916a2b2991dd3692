import { CiabError } from "@ciab/protocol";
import type { ArtifactRecord } from "../records.js";
import type { ArtifactRepository, DownloadRepository } from "../store.js";
import type { DynamoTable } from "./dynamodb-table.js";
import { createItem, fromItem, mainKey, type ItemLayout } from "./dynamodb-items.js";

const layout: ItemLayout<ArtifactRecord> = {
  kind: "artifact",
  keys: (record) => ({ ...mainKey("artifact", record.id), gsi1pk: `artifact#${record.workspaceID}#${record.kind}`, gsi1sk: record.id }),
};

/** Download counters outlive their hour by a day, then DynamoDB's TTL removes them. */
const downloadTTLSeconds = 25 * 3600;

export function createArtifactRepository(table: DynamoTable): ArtifactRepository {
  const key = (id: string) => mainKey("artifact", id);
  return {
    async create(record) {
      if (!(await createItem(table, layout, record))) throw new CiabError("already_exists", `artifact ${record.id} exists`);
    },
    async get(workspaceID, id) {
      const item = await table.get(key(id));
      return item && item.workspaceID === workspaceID ? fromItem<ArtifactRecord>(item) : undefined;
    },
    async getAny(id) {
      const item = await table.get(key(id));
      return item && fromItem<ArtifactRecord>(item);
    },
    async list(workspaceID, filter) {
      const items = await table.query({
        index: "gsi1",
        partition: `artifact#${workspaceID}#${filter.kind}`,
        after: filter.after,
        limit: filter.limit,
        keep: (item) =>
          (filter.sessionID === undefined || item.sessionID === filter.sessionID) && (filter.sandboxID === undefined || item.sandboxID === filter.sandboxID),
      });
      return items.map((item) => fromItem<ArtifactRecord>(item));
    },
    delete(workspaceID, id) {
      return table.delete(key(id), { expression: "#ws = :ws", names: { "#ws": "workspaceID" }, values: { ":ws": workspaceID } });
    },
  };
}

export function createDownloadRepository(table: DynamoTable): DownloadRepository {
  const key = (userID: string, hour: string) => mainKey("downloads", `${userID}#${hour}`);
  return {
    async reserve(userID, hour, bytes, limit) {
      if (bytes > limit) return false;
      const hourStart = Date.parse(`${hour}:00:00Z`);
      const expires = Math.floor((Number.isFinite(hourStart) ? hourStart : Date.now()) / 1000) + downloadTTLSeconds;
      // One conditional ADD: concurrent downloads cannot both pass the check on the same stale total. Not
      // retried: a lost answer to an applied ADD would count the bytes twice.
      const added = await table.update(
        key(userID, hour),
        {
          expression: "SET #kind = :kind, #ttl = :ttl ADD #bytes :bytes",
          names: { "#kind": "itemType", "#ttl": "ttl", "#bytes": "bytes" },
          values: { ":kind": "downloads", ":ttl": expires, ":bytes": bytes, ":room": limit - bytes },
        },
        { expression: "attribute_not_exists(#bytes) OR #bytes <= :room" },
      );
      return added !== undefined;
    },
    async used(userID, hour) {
      const item = await table.get(key(userID, hour));
      return Number(item?.bytes ?? 0);
    },
  };
}
