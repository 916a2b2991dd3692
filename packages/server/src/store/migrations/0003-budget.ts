import type { Kysely } from "kysely";

/** Cost and end reasons on sandboxes and sessions, who created what, and the hourly usage ledger. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const sandboxColumns: Array<[string, "text" | "real" | "integer", unknown]> = [
    ["user_id", "text", null],
    ["usd_per_hour", "real", 0],
    ["bills_paused", "integer", 1],
    ["cost_usd", "real", 0],
    ["metered_since", "text", null],
    ["end_reason", "text", null],
  ];
  for (const [name, type, defaultValue] of sandboxColumns) {
    await db.schema
      .alterTable("sandboxes")
      .addColumn(name, type, (column) => (defaultValue === null ? column : column.notNull().defaultTo(defaultValue)))
      .execute();
  }
  for (const [name, type, defaultValue] of [
    ["user_id", "text", null],
    ["end_reason", "text", null],
    ["usd_per_hour", "real", 0],
  ] as const) {
    await db.schema
      .alterTable("sessions")
      .addColumn(name, type, (column) => (defaultValue === null ? column : column.notNull().defaultTo(defaultValue)))
      .execute();
  }
  await db.schema
    .createTable("usage_hours")
    .addColumn("sandbox_id", "text", (column) => column.notNull())
    .addColumn("hour", "text", (column) => column.notNull())
    .addColumn("workspace_id", "text", (column) => column.notNull())
    .addColumn("user_id", "text", (column) => column.notNull())
    .addColumn("runtime", "text", (column) => column.notNull())
    .addColumn("seconds", "real", (column) => column.notNull())
    .addColumn("cost_usd", "real", (column) => column.notNull())
    .addPrimaryKeyConstraint("usage_hours_pk", ["sandbox_id", "hour"])
    .execute();
  await db.schema.createIndex("usage_hours_workspace_hour").on("usage_hours").columns(["workspace_id", "hour"]).execute();
  await db.schema.createIndex("usage_hours_hour").on("usage_hours").column("hour").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("usage_hours").execute();
  for (const name of ["user_id", "usd_per_hour", "bills_paused", "cost_usd", "metered_since", "end_reason"]) {
    await db.schema.alterTable("sandboxes").dropColumn(name).execute();
  }
  for (const name of ["user_id", "end_reason", "usd_per_hour"]) await db.schema.alterTable("sessions").dropColumn(name).execute();
}
