import { sql, type Kysely } from "kysely";

/** Persistence modes: each sandbox's and session's mode, the final snapshot's id, and users' volumes. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("sandboxes").addColumn("persistence", "text", (column) => column.notNull().defaultTo(sql.lit("ephemeral"))).execute();
  await db.schema.alterTable("sandboxes").addColumn("volume_id", "text").execute();
  await db.schema.alterTable("sandboxes").addColumn("final_snapshot_id", "text").execute();
  await db.schema.alterTable("sessions").addColumn("persistence", "text", (column) => column.notNull().defaultTo(sql.lit("ephemeral"))).execute();
  await db.schema.alterTable("sessions").addColumn("final_snapshot_id", "text").execute();
  await db.schema
    .createTable("volumes")
    .addColumn("id", "text", (column) => column.primaryKey())
    .addColumn("workspace_id", "text", (column) => column.notNull())
    .addColumn("user_id", "text", (column) => column.notNull())
    .addColumn("runtime", "text", (column) => column.notNull())
    .addColumn("details", "text", (column) => column.notNull())
    .addColumn("sandbox_id", "text")
    .addColumn("created_at", "text", (column) => column.notNull())
    .addColumn("last_used_at", "text")
    .execute();
  await db.schema.createIndex("volumes_workspace_user").on("volumes").columns(["workspace_id", "user_id", "id"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("volumes").execute();
  for (const column of ["persistence", "final_snapshot_id"]) await db.schema.alterTable("sessions").dropColumn(column).execute();
  for (const column of ["persistence", "volume_id", "final_snapshot_id"]) await db.schema.alterTable("sandboxes").dropColumn(column).execute();
}
