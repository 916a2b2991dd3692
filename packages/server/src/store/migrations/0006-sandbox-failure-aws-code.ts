import type { Kysely } from "kysely";

/** Keeps the cloud's own error code of a failed sandbox, shown as `failure.aws_code`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("sandboxes").addColumn("failure_aws_code", "text").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("sandboxes").dropColumn("failure_aws_code").execute();
}
