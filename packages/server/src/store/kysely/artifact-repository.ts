import { sql, type Kysely } from "kysely";
import type { ArtifactRecord } from "../records.js";
import type { ArtifactRepository, DownloadRepository } from "../store.js";
import type { ArtifactRow, Tables } from "./tables.js";

function toRecord(row: ArtifactRow): ArtifactRecord {
  return {
    id: row.id,
    kind: row.kind as ArtifactRecord["kind"],
    workspaceID: row.workspace_id,
    userID: row.user_id,
    sessionID: row.session_id,
    sandboxID: row.sandbox_id,
    path: row.path,
    label: row.label,
    mime: row.mime,
    description: row.description,
    size: row.size,
    sha256: row.sha256,
    storageKey: row.storage_key,
    scanStatus: row.scan_status as ArtifactRecord["scanStatus"],
    scanSignature: row.scan_signature,
    createdAt: row.created_at,
  };
}

export function createArtifactRepository(db: Kysely<Tables>): ArtifactRepository {
  return {
    async create(record) {
      await db
        .insertInto("artifacts")
        .values({
          id: record.id,
          kind: record.kind,
          workspace_id: record.workspaceID,
          user_id: record.userID,
          session_id: record.sessionID,
          sandbox_id: record.sandboxID,
          path: record.path,
          label: record.label,
          mime: record.mime,
          description: record.description,
          size: record.size,
          sha256: record.sha256,
          storage_key: record.storageKey,
          scan_status: record.scanStatus,
          scan_signature: record.scanSignature,
          created_at: record.createdAt,
        })
        .execute();
    },
    async get(workspaceID, id) {
      const row = await db.selectFrom("artifacts").selectAll().where("workspace_id", "=", workspaceID).where("id", "=", id).executeTakeFirst();
      return row && toRecord(row);
    },
    async getAny(id) {
      const row = await db.selectFrom("artifacts").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toRecord(row);
    },
    async list(workspaceID, filter) {
      let query = db.selectFrom("artifacts").selectAll().where("workspace_id", "=", workspaceID).where("kind", "=", filter.kind);
      if (filter.sessionID !== undefined) query = query.where("session_id", "=", filter.sessionID);
      if (filter.sandboxID !== undefined) query = query.where("sandbox_id", "=", filter.sandboxID);
      if (filter.after !== undefined) query = query.where("id", ">", filter.after);
      const rows = await query.orderBy("id").limit(filter.limit).execute();
      return rows.map(toRecord);
    },
    async delete(workspaceID, id) {
      const result = await db.deleteFrom("artifacts").where("workspace_id", "=", workspaceID).where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export function createDownloadRepository(db: Kysely<Tables>): DownloadRepository {
  return {
    async reserve(userID, hour, bytes, limit) {
      if (bytes > limit) return false;
      // One statement: concurrent downloads cannot both pass the check on the same stale total.
      const result = await db
        .insertInto("download_hours")
        .values({ user_id: userID, hour, bytes })
        .onConflict((conflict) =>
          conflict
            .columns(["user_id", "hour"])
            .doUpdateSet({ bytes: sql`download_hours.bytes + excluded.bytes` })
            .where(sql<boolean>`download_hours.bytes + excluded.bytes <= ${limit}`),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },
    async used(userID, hour) {
      const row = await db.selectFrom("download_hours").select("bytes").where("user_id", "=", userID).where("hour", "=", hour).executeTakeFirst();
      return row?.bytes ?? 0;
    },
  };
}
