import { CiabError } from "@ciab/protocol";
import type { MetaRepository, TokenRepository, UserRepository, WorkspaceRepository } from "../store.js";
import type { TokenRecord, UserRecord, WorkspaceRecord } from "../records.js";
import { absent, type DynamoTable } from "./dynamodb-table.js";
import { byID, createItem, fromItem, mainKey, modify, putTransactItem, toItem, type ItemLayout } from "./dynamodb-items.js";

export const workspaceLayout: ItemLayout<WorkspaceRecord> = {
  kind: "workspace",
  keys: (record) => ({ ...mainKey("workspace", record.id), gsi1pk: "workspace", gsi1sk: record.id }),
};

const userLayout: ItemLayout<UserRecord> = {
  kind: "user",
  keys: (record) => ({ ...mainKey("user", record.id), gsi1pk: `user#${record.workspaceID}`, gsi1sk: record.id, gsi2pk: "user", gsi2sk: record.id }),
};

const tokenLayout: ItemLayout<TokenRecord> = {
  kind: "token",
  keys: (record) => ({ ...mainKey("token", record.id), gsi1pk: `token#${record.workspaceID}`, gsi1sk: record.id }),
};

export function createMetaRepository(table: DynamoTable): MetaRepository {
  return {
    async get(key) {
      const item = await table.get(mainKey("meta", key));
      return item?.value as string | undefined;
    },
    async setIfAbsent(key, value) {
      await table.put({ ...mainKey("meta", key), itemType: "meta", value }, absent);
      const item = await table.get(mainKey("meta", key));
      return item!.value as string;
    },
  };
}

export function createWorkspaceRepository(table: DynamoTable): WorkspaceRepository {
  return {
    async create(record) {
      // The name's own item makes names unique: both are written, or neither.
      const created = await table.transact([
        putTransactItem(table, toItem(workspaceLayout, record, 1), absent),
        putTransactItem(table, { ...mainKey("workspace-name", record.name), itemType: "workspace-name", workspaceID: record.id }, absent),
      ]);
      if (!created) throw new CiabError("already_exists", `a workspace named ${record.name} exists`, { context: { name: record.name } });
    },
    async get(id) {
      const item = await table.get(mainKey("workspace", id));
      return item && fromItem<WorkspaceRecord>(item);
    },
    async list(filter) {
      const items = await table.query({ index: "gsi1", partition: "workspace", after: filter.after, limit: filter.limit });
      return items.map((item) => fromItem<WorkspaceRecord>(item));
    },
  };
}

export function createUserRepository(table: DynamoTable): UserRepository {
  return {
    async create(record) {
      if (!(await createItem(table, userLayout, { ...record, removedAt: record.removedAt ?? null }))) {
        throw new CiabError("already_exists", `user ${record.id} exists`);
      }
    },
    async get(id) {
      const item = await table.get(mainKey("user", id));
      return item && fromItem<UserRecord>(item);
    },
    async exists() {
      return (await table.query({ index: "gsi2", partition: "user", limit: 1 })).length > 0;
    },
    async list(workspaceID) {
      const items = await table.query({ index: "gsi1", partition: `user#${workspaceID}`, keep: (item) => item.removedAt === null || item.removedAt === undefined });
      return items.map((item) => fromItem<UserRecord>(item));
    },
    async setRole(id, role) {
      await modify(table, userLayout, mainKey("user", id), () => ({ role }));
    },
    async remove(id, at) {
      // The user first: a removed user's tokens stop working at once (findByHash checks the user), and the
      // tokens are then revoked one by one, however many there are.
      const user = await modify(table, userLayout, mainKey("user", id), () => ({ removedAt: at }));
      if (!user) return;
      for (const token of await liveTokens(table, user.workspaceID, id)) {
        await modify(table, tokenLayout, mainKey("token", token.id), (current) => (current.revokedAt === null ? { revokedAt: at } : undefined));
      }
    },
  };
}

async function liveTokens(table: DynamoTable, workspaceID: string, userID?: string): Promise<TokenRecord[]> {
  const items = await table.query({
    index: "gsi1",
    partition: `token#${workspaceID}`,
    keep: (item) => item.revokedAt === null && (userID === undefined || item.userID === userID),
  });
  return items.map((item) => fromItem<TokenRecord>(item)).sort(byID);
}

export function createTokenRepository(table: DynamoTable): TokenRepository {
  return {
    async create(record) {
      const stored: TokenRecord = { ...record, role: record.role ?? null, expiresAt: record.expiresAt ?? null, lastUsedAt: null };
      // The hash's own item is the strongly consistent lookup: a token works as soon as it is created.
      const created = await table.transact([
        putTransactItem(table, toItem(tokenLayout, stored, 1), absent),
        putTransactItem(table, { ...mainKey("token-hash", record.hash), itemType: "token-hash", tokenID: record.id }, absent),
      ]);
      if (!created) throw new CiabError("already_exists", `token ${record.id} exists`);
    },
    async findByHash(hash, now) {
      const lookup = await table.get(mainKey("token-hash", hash));
      if (!lookup) return undefined;
      const item = await table.get(mainKey("token", String(lookup.tokenID)));
      if (!item || item.hash !== hash) return undefined;
      const token = fromItem<TokenRecord>(item);
      if (token.revokedAt !== null) return undefined;
      if (token.expiresAt != null && token.expiresAt <= now.toISOString()) return undefined;
      const userItem = await table.get(mainKey("user", token.userID));
      if (!userItem) return undefined;
      const user = fromItem<UserRecord>(userItem);
      if (user.removedAt != null) return undefined;
      return { token, user };
    },
    async get(workspaceID, id) {
      const item = await table.get(mainKey("token", id));
      return item && item.workspaceID === workspaceID ? fromItem<TokenRecord>(item) : undefined;
    },
    list(workspaceID, filter = {}) {
      return liveTokens(table, workspaceID, filter.userID);
    },
    async revoke(id, at) {
      await modify(table, tokenLayout, mainKey("token", id), (current) => (current.revokedAt === null ? { revokedAt: at } : undefined));
    },
    async idsOfUser(userID) {
      const user = await table.get(mainKey("user", userID));
      if (!user) return [];
      return (await liveTokens(table, String(user.workspaceID), userID)).map((token) => token.id);
    },
    async touch(id, at) {
      await modify(table, tokenLayout, mainKey("token", id), () => ({ lastUsedAt: at }));
    },
  };
}
