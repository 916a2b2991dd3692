import type { Kysely } from "kysely";
import type { SecretRepository } from "../store.js";
import type { Tables } from "./tables.js";

export function createSecretRepository(db: Kysely<Tables>): SecretRepository {
  return {
    async put(record) {
      await db
        .insertInto("secrets")
        .values({
          workspace_id: record.workspaceID,
          name: record.name,
          sealed_value: record.sealedValue,
          created_at: record.createdAt,
          updated_at: record.updatedAt,
        })
        .onConflict((conflict) =>
          conflict.columns(["workspace_id", "name"]).doUpdateSet({ sealed_value: record.sealedValue, updated_at: record.updatedAt }),
        )
        .execute();
    },
    async get(workspaceID, name) {
      const row = await db
        .selectFrom("secrets")
        .selectAll()
        .where("workspace_id", "=", workspaceID)
        .where("name", "=", name)
        .executeTakeFirst();
      return row && { workspaceID: row.workspace_id, name: row.name, sealedValue: row.sealed_value, createdAt: row.created_at, updatedAt: row.updated_at };
    },
    async list(workspaceID) {
      const rows = await db.selectFrom("secrets").selectAll().where("workspace_id", "=", workspaceID).orderBy("name").execute();
      return rows.map((row) => ({
        workspaceID: row.workspace_id,
        name: row.name,
        sealedValue: row.sealed_value,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }));
    },
    async delete(workspaceID, name) {
      const result = await db.deleteFrom("secrets").where("workspace_id", "=", workspaceID).where("name", "=", name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
