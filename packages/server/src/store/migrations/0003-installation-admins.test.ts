import Database from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { expect, test } from "vitest";
import { migrationProvider } from "./index.js";

test("admins of the first workspace become installation admins; other admins stay workspace admins", async () => {
  const db = new Kysely<Record<string, Record<string, unknown>>>({ dialect: new SqliteDialect({ database: new Database(":memory:") }) });
  const migrator = new Migrator({ db, provider: migrationProvider });
  expect((await migrator.migrateTo("0002-sessions")).error).toBeUndefined();
  await db
    .insertInto("workspaces")
    .values([
      { id: "ws_b", name: "later", created_at: "2026-02-01T00:00:00.000Z" },
      { id: "ws_a", name: "default", created_at: "2026-01-01T00:00:00.000Z" },
    ])
    .execute();
  const user = (id: string, workspace: string, role: string) => ({ id, workspace_id: workspace, name: id, role, created_at: "2026-03-01T00:00:00.000Z" });
  await db
    .insertInto("users")
    .values([user("first_admin", "ws_a", "admin"), user("first_member", "ws_a", "member"), user("team_admin", "ws_b", "admin")])
    .execute();
  expect((await migrator.migrateToLatest()).error).toBeUndefined();
  const rows = await db.selectFrom("users").select(["id", "role", "installation_admin"]).orderBy("id").execute();
  expect(rows).toEqual([
    { id: "first_admin", role: "admin", installation_admin: 1 },
    { id: "first_member", role: "member", installation_admin: 0 },
    { id: "team_admin", role: "admin", installation_admin: 0 },
  ]);
  await db.destroy();
});
