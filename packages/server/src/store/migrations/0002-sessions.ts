import type { Kysely } from "kysely";

/** Sessions, their events, and workspace secrets. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("secrets")
    .addColumn("workspace_id", "text", (column) => column.notNull().references("workspaces.id"))
    .addColumn("name", "text", (column) => column.notNull())
    .addColumn("sealed_value", "text", (column) => column.notNull())
    .addColumn("created_at", "text", (column) => column.notNull())
    .addColumn("updated_at", "text", (column) => column.notNull())
    .addPrimaryKeyConstraint("secrets_pk", ["workspace_id", "name"])
    .execute();
  await db.schema
    .createTable("sessions")
    .addColumn("id", "text", (column) => column.primaryKey())
    .addColumn("workspace_id", "text", (column) => column.notNull().references("workspaces.id"))
    .addColumn("sandbox_id", "text")
    .addColumn("owns_sandbox", "integer", (column) => column.notNull())
    .addColumn("keep_sandbox", "integer", (column) => column.notNull())
    .addColumn("provider", "text", (column) => column.notNull())
    .addColumn("prompt", "text")
    .addColumn("model", "text")
    .addColumn("repo", "text")
    .addColumn("sealed_repo_url", "text")
    .addColumn("sealed_env", "text", (column) => column.notNull())
    .addColumn("env_keys", "text", (column) => column.notNull())
    .addColumn("sandbox_request", "text", (column) => column.notNull())
    .addColumn("state", "text", (column) => column.notNull())
    .addColumn("exit_code", "integer")
    .addColumn("failure_reason", "text")
    .addColumn("failure_message", "text")
    .addColumn("process_pid", "integer")
    .addColumn("stdout_offset", "integer", (column) => column.notNull())
    .addColumn("gateway_token_hash", "text")
    .addColumn("input_tokens", "integer", (column) => column.notNull())
    .addColumn("output_tokens", "integer", (column) => column.notNull())
    .addColumn("cost_usd", "real", (column) => column.notNull())
    .addColumn("created_at", "text", (column) => column.notNull())
    .addColumn("updated_at", "text", (column) => column.notNull())
    .addColumn("started_at", "text")
    .addColumn("ended_at", "text")
    .execute();
  await db.schema.createIndex("sessions_workspace").on("sessions").columns(["workspace_id", "id"]).execute();
  await db.schema.createIndex("sessions_gateway_token").on("sessions").column("gateway_token_hash").execute();
  await db.schema
    .createTable("events")
    .addColumn("session_id", "text", (column) => column.notNull().references("sessions.id"))
    .addColumn("seq", "integer", (column) => column.notNull())
    .addColumn("type", "text", (column) => column.notNull())
    .addColumn("data", "text", (column) => column.notNull())
    .addColumn("raw", "text")
    .addColumn("created_at", "text", (column) => column.notNull())
    .addPrimaryKeyConstraint("events_pk", ["session_id", "seq"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["events", "sessions", "secrets"]) await db.schema.dropTable(table).execute();
}
