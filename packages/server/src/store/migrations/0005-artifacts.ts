import type { Kysely } from "kysely";

/** Artifacts and snapshots (one table, told apart by `kind`) and the per-user hourly download counter. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("artifacts")
    .addColumn("id", "text", (column) => column.primaryKey())
    .addColumn("kind", "text", (column) => column.notNull())
    .addColumn("workspace_id", "text", (column) => column.notNull())
    .addColumn("user_id", "text", (column) => column.notNull())
    .addColumn("session_id", "text")
    .addColumn("sandbox_id", "text", (column) => column.notNull())
    .addColumn("path", "text")
    .addColumn("label", "text")
    .addColumn("mime", "text", (column) => column.notNull())
    .addColumn("description", "text")
    .addColumn("size", "integer", (column) => column.notNull())
    .addColumn("sha256", "text", (column) => column.notNull())
    .addColumn("storage_key", "text", (column) => column.notNull())
    .addColumn("scan_status", "text", (column) => column.notNull())
    .addColumn("scan_signature", "text")
    .addColumn("created_at", "text", (column) => column.notNull())
    .execute();
  await db.schema.createIndex("artifacts_workspace_kind_id").on("artifacts").columns(["workspace_id", "kind", "id"]).execute();
  await db.schema
    .createTable("download_hours")
    .addColumn("user_id", "text", (column) => column.notNull())
    .addColumn("hour", "text", (column) => column.notNull())
    .addColumn("bytes", "integer", (column) => column.notNull())
    .addPrimaryKeyConstraint("download_hours_pk", ["user_id", "hour"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("download_hours").execute();
  await db.schema.dropTable("artifacts").execute();
}
