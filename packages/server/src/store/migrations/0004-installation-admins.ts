import { sql, type Kysely } from "kysely";

/**
 * Splits the installation-wide admin from the workspace admin: `users.role` (`admin` / `member`) says what a
 * user may do in their own workspace; `users.installation_admin` says whether they administer the whole
 * installation (create workspaces, installation settings). Admins of the first workspace, where the
 * first-start admin lives, keep installation-wide rights; admins of other workspaces become workspace admins.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("users")
    .addColumn("installation_admin", "integer", (column) => column.notNull().defaultTo(0))
    .execute();
  await sql`
    update users set installation_admin = 1
    where role = 'admin'
      and workspace_id = (select id from workspaces order by created_at, id limit 1)
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("users").dropColumn("installation_admin").execute();
}
