import type { Kysely } from "kysely";

/** Keeps the deciding admin's note to the agent on its approval, shown as `decision_note`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("approvals").addColumn("decision_note", "text").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("approvals").dropColumn("decision_note").execute();
}
