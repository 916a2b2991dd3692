import type { Kysely } from "kysely";
import { CiabError } from "@ciab/protocol";
import type { MetaRepository, TokenRepository, UserRepository, WorkspaceRepository } from "../store.js";
import type { TokenRecord, UserRecord } from "../records.js";
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
      // The unique index decides races; the conflict clause turns a lost race into no row rather than a driver error.
      const result = await db
        .insertInto("workspaces")
        .values({ id: record.id, name: record.name, created_at: record.createdAt })
        .onConflict((conflict) => conflict.column("name").doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) {
        throw new CiabError("already_exists", `a workspace named ${record.name} exists`, { context: { name: record.name } });
      }
    },
    async get(id) {
      const row = await db.selectFrom("workspaces").selectAll().where("id", "=", id).executeTakeFirst();
      return row && { id: row.id, name: row.name, createdAt: row.created_at };
    },
    async list(filter) {
      let query = db.selectFrom("workspaces").selectAll();
      if (filter.after !== undefined) query = query.where("id", ">", filter.after);
      const rows = await query.orderBy("id").limit(filter.limit).execute();
      return rows.map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at }));
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
          removed_at: null,
        })
        .execute();
    },
    async get(id) {
      const row = await db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
      return row && userFromRow(row);
    },
    async exists() {
      return (await db.selectFrom("users").select("id").limit(1).executeTakeFirst()) !== undefined;
    },
    async list(workspaceID) {
      const rows = await db
        .selectFrom("users")
        .selectAll()
        .where("workspace_id", "=", workspaceID)
        .where("removed_at", "is", null)
        .orderBy("id")
        .execute();
      return rows.map(userFromRow);
    },
    async setRole(id, role) {
      await db.updateTable("users").set({ role }).where("id", "=", id).execute();
    },
    async remove(id, at) {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable("users").set({ removed_at: at }).where("id", "=", id).execute();
        await trx.updateTable("tokens").set({ revoked_at: at }).where("user_id", "=", id).where("revoked_at", "is", null).execute();
      });
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
          role: record.role ?? null,
          expires_at: record.expiresAt ?? null,
          last_used_at: null,
        })
        .execute();
    },
    async findByHash(hash, now) {
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
          "tokens.role as token_role",
          "tokens.expires_at",
          "tokens.last_used_at",
          "users.name as user_name",
          "users.role",
          "users.installation_admin",
          "users.created_at as user_created_at",
        ])
        .where("tokens.hash", "=", hash)
        .where("tokens.revoked_at", "is", null)
        .where("users.removed_at", "is", null)
        .where((eb) => eb.or([eb("tokens.expires_at", "is", null), eb("tokens.expires_at", ">", now.toISOString())]))
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        token: tokenFromRow({
          id: row.token_id,
          user_id: row.user_id,
          workspace_id: row.workspace_id,
          name: row.token_name,
          hash: row.hash,
          created_at: row.token_created_at,
          revoked_at: row.revoked_at,
          role: row.token_role,
          expires_at: row.expires_at,
          last_used_at: row.last_used_at,
        }),
        user: userFromRow({
          id: row.user_id,
          workspace_id: row.workspace_id,
          name: row.user_name,
          role: row.role,
          installation_admin: row.installation_admin,
          created_at: row.user_created_at,
          removed_at: null,
        }),
      };
    },
    async get(workspaceID, id) {
      const row = await db.selectFrom("tokens").selectAll().where("id", "=", id).where("workspace_id", "=", workspaceID).executeTakeFirst();
      return row && tokenFromRow(row);
    },
    async list(workspaceID, filter = {}) {
      let query = db.selectFrom("tokens").selectAll().where("workspace_id", "=", workspaceID).where("revoked_at", "is", null);
      if (filter.userID !== undefined) query = query.where("user_id", "=", filter.userID);
      return (await query.orderBy("id").execute()).map(tokenFromRow);
    },
    async revoke(id, at) {
      await db.updateTable("tokens").set({ revoked_at: at }).where("id", "=", id).where("revoked_at", "is", null).execute();
    },
    async idsOfUser(userID) {
      const rows = await db.selectFrom("tokens").select("id").where("user_id", "=", userID).where("revoked_at", "is", null).execute();
      return rows.map((row) => row.id);
    },
    async touch(id, at) {
      await db.updateTable("tokens").set({ last_used_at: at }).where("id", "=", id).execute();
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
    removedAt: row.removed_at,
  };
}

function tokenFromRow(row: Tables["tokens"]): TokenRecord {
  return {
    id: row.id,
    userID: row.user_id,
    workspaceID: row.workspace_id,
    name: row.name,
    hash: row.hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    role: row.role === "admin" || row.role === "member" ? row.role : null,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}
