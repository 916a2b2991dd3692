import type { SecretRecord } from "../records.js";
import type { SecretRepository } from "../store.js";
import type { DynamoTable } from "./dynamodb-table.js";
import { fromItem } from "./dynamodb-items.js";

const secretKey = (workspaceID: string, name: string) => ({ pk: `secret#${workspaceID}#${name}`, sk: "#" });

export function createSecretRepository(table: DynamoTable): SecretRepository {
  return {
    async put(record) {
      // A replaced secret keeps the time it was first created.
      await table.update(
        secretKey(record.workspaceID, record.name),
        {
          expression:
            "SET #kind = :kind, #ws = :ws, #name = :name, #value = :value, #updated = :updated, #created = if_not_exists(#created, :created), gsi1pk = :g1, gsi1sk = :name ADD #version :one",
          names: {
            "#kind": "itemType",
            "#ws": "workspaceID",
            "#name": "name",
            "#value": "sealedValue",
            "#updated": "updatedAt",
            "#created": "createdAt",
            "#version": "itemVersion",
          },
          values: {
            ":kind": "secret",
            ":ws": record.workspaceID,
            ":name": record.name,
            ":value": record.sealedValue,
            ":updated": record.updatedAt,
            ":created": record.createdAt,
            ":g1": `secret#${record.workspaceID}`,
            ":one": 1,
          },
        },
        undefined,
        { retry: true },
      );
    },
    async get(workspaceID, name) {
      const item = await table.get(secretKey(workspaceID, name));
      return item && fromItem<SecretRecord>(item);
    },
    async list(workspaceID) {
      const items = await table.query({ index: "gsi1", partition: `secret#${workspaceID}` });
      return items.map((item) => fromItem<SecretRecord>(item));
    },
    delete(workspaceID, name) {
      return table.delete(secretKey(workspaceID, name));
    },
  };
}
