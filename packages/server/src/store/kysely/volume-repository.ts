import type { Kysely } from "kysely";
import type { VolumeRecord } from "../records.js";
import type { VolumeRepository } from "../store.js";
import type { Tables, VolumeRow } from "./tables.js";

function toRecord(row: VolumeRow): VolumeRecord {
  return {
    id: row.id,
    workspaceID: row.workspace_id,
    userID: row.user_id,
    runtime: row.runtime as VolumeRecord["runtime"],
    details: JSON.parse(row.details) as Record<string, unknown>,
    sandboxID: row.sandbox_id,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export function createVolumeRepository(db: Kysely<Tables>): VolumeRepository {
  return {
    async create(record) {
      await db
        .insertInto("volumes")
        .values({
          id: record.id,
          workspace_id: record.workspaceID,
          user_id: record.userID,
          runtime: record.runtime,
          details: JSON.stringify(record.details),
          sandbox_id: record.sandboxID,
          created_at: record.createdAt,
          last_used_at: record.lastUsedAt,
        })
        .execute();
    },
    async get(workspaceID, id) {
      const row = await db.selectFrom("volumes").selectAll().where("workspace_id", "=", workspaceID).where("id", "=", id).executeTakeFirst();
      return row && toRecord(row);
    },
    async list(workspaceID, filter = {}) {
      let query = db.selectFrom("volumes").selectAll().where("workspace_id", "=", workspaceID);
      if (filter.userID !== undefined) query = query.where("user_id", "=", filter.userID);
      if (filter.runtime !== undefined) query = query.where("runtime", "=", filter.runtime);
      return (await query.orderBy("id").execute()).map(toRecord);
    },
    async claim(id, holder, sandboxID) {
      const result = await db
        .updateTable("volumes")
        .set({ sandbox_id: sandboxID, last_used_at: new Date().toISOString() })
        .where("id", "=", id)
        .where("sandbox_id", holder === null ? "is" : "=", holder)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async release(id, sandboxID) {
      await db.updateTable("volumes").set({ sandbox_id: null }).where("id", "=", id).where("sandbox_id", "=", sandboxID).execute();
    },
    async delete(workspaceID, id, holder) {
      const result = await db
        .deleteFrom("volumes")
        .where("workspace_id", "=", workspaceID)
        .where("id", "=", id)
        .where("sandbox_id", holder === null ? "is" : "=", holder)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
