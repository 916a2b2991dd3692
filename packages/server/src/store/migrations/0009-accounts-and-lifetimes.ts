import { sql, type Kysely } from "kysely";

/**
 * Token roles, expiry and last use; removed users; unique workspace names; sandbox lifetimes
 * (docs/decisions/0027-lifetimes-and-accounts.md). Workspaces that already share a name keep the oldest
 * one's name and the others get their id appended, so the unique index can be made.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("tokens").addColumn("role", "text").execute();
  await db.schema.alterTable("tokens").addColumn("expires_at", "text").execute();
  await db.schema.alterTable("tokens").addColumn("last_used_at", "text").execute();
  await db.schema.alterTable("users").addColumn("removed_at", "text").execute();
  await sql`
    update workspaces set name = name || '-' || id
    where exists (
      select 1 from workspaces older
      where older.name = workspaces.name
        and (older.created_at < workspaces.created_at or (older.created_at = workspaces.created_at and older.id < workspaces.id))
    )
  `.execute(db);
  await db.schema.createIndex("workspaces_name").on("workspaces").column("name").unique().execute();
  await db.schema.alterTable("sandboxes").addColumn("timeout_seconds", "integer").execute();
  await db.schema.alterTable("sandboxes").addColumn("on_timeout", "text").execute();
  await db.schema.alterTable("sandboxes").addColumn("expires_at", "text").execute();
  await db.schema.alterTable("sandboxes").addColumn("delete_after", "text").execute();
  // Sandboxes made before lifetimes get the shipped defaults; the lifetime loop gives ready ones a deadline.
  await sql`update sandboxes set timeout_seconds = 300, on_timeout = 'pause'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ["delete_after", "expires_at", "on_timeout", "timeout_seconds"]) {
    await db.schema.alterTable("sandboxes").dropColumn(column).execute();
  }
  await db.schema.dropIndex("workspaces_name").execute();
  await db.schema.alterTable("users").dropColumn("removed_at").execute();
  for (const column of ["last_used_at", "expires_at", "role"]) await db.schema.alterTable("tokens").dropColumn(column).execute();
}
