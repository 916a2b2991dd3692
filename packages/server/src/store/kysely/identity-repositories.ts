import type { Kysely } from "kysely";
import type { MetaRepository, TokenRepository, UserRepository, WorkspaceRepository } from "../store.js";
import type { UserRecord } from "../records.js";
import type { Tables } from "./tables.js";

/** Meta, workspaces, users and tokens: the small tables that identify who is calling. */
export function createMetaRepository(db: Kysely<Tables>): MetaRepository {
  return {
    async get(key) {
      const row = await db.selectFrom("meta").select("value").where("key", "=", key).executeTakeFirst();
      return row?.value;
    },
    async setIfAbsent(key, value) {
      await db.insertInto("meta").values({ key, value }).onConflict((conflict) => conflict.doNothing()).execute();
      const row = await db.selectFrom("meta").select("value").where("key", "=", key).executeTakeFirstOrThrow();
      return row.value;
    },
  };
}

export function createWorkspaceRepository(db: Kysely<Tables>): WorkspaceRepository {
  return {
    async create(record) {
      await db.insertInto("workspaces").values({ id: record.id, name: record.name, created_at: record.createdAt }).execute();
    },
    async get(id) {
      const row = await db.selectFrom("workspaces").selectAll().where("id", "=", id).executeTakeFirst();
      return row && { id: row.id, name: row.name, createdAt: row.created_at };
    },
  };
}

export function createUserRepository(db: Kysely<Tables>): UserRepository {
  return {
    async create(record) {
      await db
        .insertInto("users")
        .values({
          id: record.id,
          workspace_id: record.workspaceID,
          name: record.name,
          role: record.role,
          installation_admin: record.installationAdmin ? 1 : 0,
          created_at: record.createdAt,
        })
        .execute();
    },
    async get(id) {
      const row = await db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
      return row && userFromRow(row);
    },
    async count() {
      const row = await db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export function createTokenRepository(db: Kysely<Tables>): TokenRepository {
  return {
    async create(record) {
      await db
        .insertInto("tokens")
        .values({
          id: record.id,
          user_id: record.userID,
          workspace_id: record.workspaceID,
          name: record.name,
          hash: record.hash,
          created_at: record.createdAt,
          revoked_at: record.revokedAt,
        })
        .execute();
    },
    async findByHash(hash) {
      const row = await db
        .selectFrom("tokens")
        .innerJoin("users", "users.id", "tokens.user_id")
        .select([
          "tokens.id as token_id",
          "tokens.user_id",
          "tokens.workspace_id",
          "tokens.name as token_name",
          "tokens.hash",
          "tokens.created_at as token_created_at",
          "tokens.revoked_at",
          "users.name as user_name",
          "users.role",
          "users.installation_admin",
          "users.created_at as user_created_at",
        ])
        .where("tokens.hash", "=", hash)
        .where("tokens.revoked_at", "is", null)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        token: {
          id: row.token_id,
          userID: row.user_id,
          workspaceID: row.workspace_id,
          name: row.token_name,
          hash: row.hash,
          createdAt: row.token_created_at,
          revokedAt: row.revoked_at,
        },
        user: userFromRow({
          id: row.user_id,
          workspace_id: row.workspace_id,
          name: row.user_name,
          role: row.role,
          installation_admin: row.installation_admin,
          created_at: row.user_created_at,
        }),
      };
    },
  };
}

function userFromRow(row: Tables["users"]): UserRecord {
  return {
    id: row.id,
    workspaceID: row.workspace_id,
    name: row.name,
    role: row.role === "admin" ? "admin" : "member",
    installationAdmin: row.installation_admin === 1,
    createdAt: row.created_at,
  };
}
