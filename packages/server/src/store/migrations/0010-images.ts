import type { Kysely } from "kysely";

/** Image builds and the images they made (docs/decisions/0030-image-builder.md). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("image_builds")
    .addColumn("id", "text", (column) => column.primaryKey())
    .addColumn("workspace_id", "text", (column) => column.notNull())
    .addColumn("user_id", "text", (column) => column.notNull())
    .addColumn("state", "text", (column) => column.notNull())
    .addColumn("runtime", "text", (column) => column.notNull())
    .addColumn("provider", "text", (column) => column.notNull())
    .addColumn("region", "text")
    .addColumn("instance_type", "text")
    .addColumn("template", "text", (column) => column.notNull())
    .addColumn("vars", "text", (column) => column.notNull())
    .addColumn("dedup_key", "text", (column) => column.notNull())
    .addColumn("step", "text")
    .addColumn("percent", "integer")
    .addColumn("image_id", "text")
    .addColumn("error", "text")
    .addColumn("created_at", "text", (column) => column.notNull())
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .execute();
  await db.schema.createIndex("image_builds_state").on("image_builds").columns(["state", "id"]).execute();
  await db.schema.createIndex("image_builds_dedup").on("image_builds").columns(["dedup_key", "state"]).execute();
  await db.schema
    .createTable("images")
    .addColumn("id", "text", (column) => column.primaryKey())
    .addColumn("workspace_id", "text", (column) => column.notNull())
    .addColumn("user_id", "text", (column) => column.notNull())
    .addColumn("build_id", "text", (column) => column.notNull())
    .addColumn("runtime", "text", (column) => column.notNull())
    .addColumn("provider", "text", (column) => column.notNull())
    .addColumn("region", "text")
    .addColumn("reference", "text", (column) => column.notNull())
    .addColumn("name", "text")
    .addColumn("created_at", "text", (column) => column.notNull())
    .execute();
  await db.schema.createIndex("images_workspace_id").on("images").columns(["workspace_id", "id"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("images").execute();
  await db.schema.dropTable("image_builds").execute();
}
