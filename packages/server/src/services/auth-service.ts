import { createHash, randomBytes } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CiabError } from "@ciab/protocol";
import type { Store } from "../store/store.js";
import type { TokenRecord, UserRecord } from "../store/records.js";
import { newID } from "../ids.js";

/** Who is calling: resolved once per request from the bearer token. */
export interface Principal {
  userID: string;
  workspaceID: string;
  /** The caller's role in `workspaceID`. */
  role: UserRecord["role"];
  /** Installation-wide rights (creating workspaces), independent of the workspace role. */
  installationAdmin: boolean;
  tokenID: string;
  /** When the token stops working; open streams are closed then (`AuthService.watch`). */
  tokenExpiresAt?: string | null;
}

export interface AuthService {
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** Creates a token for a user; the text is returned once and only its hash is stored. */
  issueToken(user: UserRecord, name: string, options?: IssueTokenOptions): Promise<string>;
  /** Like `issueToken`, answering the stored record beside the text. */
  createToken(user: UserRecord, name: string, options?: IssueTokenOptions): Promise<{ token: string; record: TokenRecord }>;
  /**
   * Stops tokens working at once: drops them from the cache and ends every stream opened with them
   * (called after the store has revoked them).
   */
  revoked(tokenIDs: string[]): void;
  /** Drops a user's cached principals, so a change of role applies to the next request. */
  forgetUser(userID: string): void;
  /** Like `forgetUser`, and ends what the user's tokens hold open: their rights were read as an admin's. */
  demoted(userID: string): void;
  /**
   * Calls `onEnd` once when the principal's token is revoked or expires; answers the unsubscribe. Long-lived
   * answers (SSE, attach WebSockets) close themselves with it.
   */
  watch(principal: Principal, onEnd: () => void): () => void;
  /** On first start: a default workspace, an installation admin and its token in `<data dir>/admin-token`. */
  bootstrapAdmin(dataDirectory: string): Promise<{ created: boolean; tokenFile: string }>;
  /** A default workspace, an installation admin and its token, when the store has no user yet; else undefined. */
  createFirstAdmin(): Promise<{ token: string; user: UserRecord } | undefined>;
}

export interface IssueTokenOptions {
  /** Narrows the user's role (`member` for an admin's CI token); never widens it. */
  role?: UserRecord["role"] | undefined;
  expiresAt?: string | undefined;
}

const tokenPattern = /^ciab_[A-Za-z0-9_-]{20,200}$/;
/** Meta keys of the first start: the ids it claimed, and whether it handed out the admin's token. */
const firstAdminKey = "first_admin";
const firstAdminTokenKey = "first_admin_token";
/**
 * Verified tokens are cached briefly so hot paths (exec) skip the database. A revoke through this server
 * purges the entry at once; another replica sharing the store sees it within this much.
 */
const cacheTtlMs = 5_000;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export interface AuthServiceOptions {
  /**
   * How often the tokens that have requests open are looked up again, so that a revoke made by another replica
   * sharing the store cuts them too (0: never); defaults to the cache's life, the time another replica's
   * revoke takes to stop new requests.
   */
  recheckMs?: number;
}

export function createAuthService(store: Store, options: AuthServiceOptions = {}): AuthService {
  const cache = new Map<string, { principal: Principal; expiresAt: number }>();
  const watchers = new Map<string, Set<() => void>>();
  // Each watched token's workspace (the store's key to look it up again), user, and the role its requests hold.
  const watchedIn = new Map<string, { workspaceID: string; userID: string; role: Principal["role"] }>();
  const recheckMs = options.recheckMs ?? cacheTtlMs;
  let recheckTimer: NodeJS.Timeout | undefined;
  let rechecking = false;
  // Bumped by every revoke and change of role: a lookup that read the store before one caches nothing.
  let generation = 0;
  // The generation each principal was read at: `watch` asks the store only when a revoke may have come between.
  const readAt = new WeakMap<Principal, number>();

  function end(tokenID: string): void {
    generation += 1;
    for (const [hash, entry] of cache) if (entry.principal.tokenID === tokenID) cache.delete(hash);
    const callbacks = watchers.get(tokenID);
    watchers.delete(tokenID);
    watchedIn.delete(tokenID);
    for (const callback of callbacks ?? []) callback();
  }

  /** Ends the watched tokens the store no longer has standing: revoked by another replica, or their user removed. */
  async function recheckWatched(): Promise<void> {
    if (watchers.size === 0) {
      clearInterval(recheckTimer);
      recheckTimer = undefined;
      return;
    }
    if (rechecking) return;
    rechecking = true;
    try {
      for (const [tokenID, { workspaceID, userID, role }] of [...watchedIn]) {
        if (!watchers.has(tokenID)) continue;
        const record = await store.tokens.get(workspaceID, tokenID).catch(() => "unknown" as const);
        if (record !== "unknown" && (!record || record.revokedAt !== null)) {
          end(tokenID);
          continue;
        }
        if (role !== "admin") continue;
        // Demoted through another replica: the open requests were allowed as an admin's.
        const user = await store.users.get(userID).catch(() => "unknown" as const);
        if (user !== "unknown" && (!user || user.role !== "admin")) end(tokenID);
      }
    } finally {
      rechecking = false;
    }
  }

  async function createToken(user: UserRecord, name: string, options: IssueTokenOptions = {}) {
    const token = `ciab_${randomBytes(30).toString("base64url")}`;
    const record: TokenRecord = {
      id: newID("tok"),
      userID: user.id,
      workspaceID: user.workspaceID,
      name,
      hash: hashToken(token),
      createdAt: new Date().toISOString(),
      revokedAt: null,
      role: options.role ?? null,
      expiresAt: options.expiresAt ?? null,
    };
    await store.tokens.create(record);
    return { token, record };
  }

  return {
    async authenticate(authorization) {
      const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (!token) throw new CiabError("unauthorized", "missing bearer token: send `Authorization: Bearer ciab_…`");
      if (!tokenPattern.test(token)) throw new CiabError("unauthorized", "malformed token");
      const hash = hashToken(token);
      const now = Date.now();
      const cached = cache.get(hash);
      if (cached && cached.expiresAt > now) return cached.principal;
      const seen = generation;
      const found = await store.tokens.findByHash(hash, new Date(now));
      if (!found) throw new CiabError("unauthorized", "unknown, revoked or expired token");
      // A narrowed token acts as a member, and a member holds no installation rights.
      const narrowed = found.token.role === "member";
      const principal: Principal = {
        userID: found.user.id,
        workspaceID: found.token.workspaceID,
        role: narrowed ? "member" : found.user.role,
        installationAdmin: found.user.installationAdmin && !narrowed,
        tokenID: found.token.id,
        tokenExpiresAt: found.token.expiresAt ?? null,
      };
      if (cache.size > 10_000) cache.clear();
      const tokenEnd = found.token.expiresAt ? Date.parse(found.token.expiresAt) : Infinity;
      if (seen === generation) cache.set(hash, { principal, expiresAt: Math.min(now + cacheTtlMs, tokenEnd) });
      readAt.set(principal, seen);
      // Once per cache period at most: last use is a hint, not an audit trail.
      void store.tokens.touch(found.token.id, new Date(now).toISOString()).catch(() => undefined);
      return principal;
    },
    async issueToken(user, name, options) {
      return (await createToken(user, name, options)).token;
    },
    createToken,
    revoked(tokenIDs) {
      for (const id of tokenIDs) end(id);
    },
    forgetUser(userID) {
      generation += 1;
      for (const [hash, entry] of cache) if (entry.principal.userID === userID) cache.delete(hash);
    },
    demoted(userID) {
      this.forgetUser(userID);
      for (const [tokenID, watched] of [...watchedIn]) if (watched.userID === userID) end(tokenID);
    },
    watch(principal, onEnd) {
      let callbacks = watchers.get(principal.tokenID);
      if (!callbacks) watchers.set(principal.tokenID, (callbacks = new Set()));
      // A narrowed token's requests hold a member's rights however its user's role changes.
      const role = watchedIn.get(principal.tokenID)?.role === "admin" ? "admin" : principal.role;
      watchedIn.set(principal.tokenID, { workspaceID: principal.workspaceID, userID: principal.userID, role });
      if (recheckMs > 0 && !recheckTimer) {
        recheckTimer = setInterval(() => void recheckWatched(), recheckMs);
        recheckTimer.unref();
      }
      let done = false;
      const once = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        onEnd();
      };
      callbacks.add(once);
      const unwatch = () => {
        done = true;
        clearTimeout(timer);
        const current = watchers.get(principal.tokenID);
        current?.delete(once);
        if (current?.size === 0) {
          watchers.delete(principal.tokenID);
          watchedIn.delete(principal.tokenID);
        }
      };
      const left = principal.tokenExpiresAt ? Date.parse(principal.tokenExpiresAt) - Date.now() : Infinity;
      // Timers hold at most 2^31-1 ms (24.8 days); a stream open longer than that outlives the check.
      const timer = Number.isFinite(left) ? setTimeout(once, Math.max(0, Math.min(left, 2 ** 31 - 1))) : undefined;
      timer?.unref();
      // The route prepared its stream after authenticating (an agent round trip for attach): a revoke in
      // between found no watcher, so the store says whether the token still stands. Every request is watched
      // (token-bound-connections.ts), so the store is asked only when some revoke came since the token was read.
      if (readAt.get(principal) === generation) return unwatch;
      void store.tokens
        .get(principal.workspaceID, principal.tokenID)
        .then((record) => {
          if (!record || record.revokedAt !== null) once();
        })
        .catch(() => undefined);
      return unwatch;
    },
    async createFirstAdmin() {
      // The first start claims its ids before it writes anything, so one that died between its writes (a
      // Lambda timed out, the table throttled) is finished by the next start instead of leaving an
      // installation nobody can enter. `first_admin_token` marks the token handed out: never a second one.
      const claimed = JSON.parse(await store.meta.setIfAbsent(firstAdminKey, JSON.stringify({ workspaceID: newID("ws"), userID: newID("usr") }))) as {
        workspaceID: string;
        userID: string;
      };
      const existing = await store.users.get(claimed.userID);
      if (!existing && (await store.users.exists())) return undefined;
      if (existing && ((await store.meta.get(firstAdminTokenKey)) !== undefined || (await store.tokens.list(existing.workspaceID, { userID: existing.id })).length > 0)) {
        return undefined;
      }
      const now = new Date().toISOString();
      if (!(await store.workspaces.get(claimed.workspaceID))) {
        await store.workspaces.create({ id: claimed.workspaceID, name: "default", createdAt: now }).catch(async (error: unknown) => {
          if (!(await store.workspaces.get(claimed.workspaceID))) throw error;
        });
      }
      const admin: UserRecord = existing ?? { id: claimed.userID, workspaceID: claimed.workspaceID, name: "admin", role: "admin", installationAdmin: true, createdAt: now };
      if (!existing) {
        try {
          await store.users.create(admin);
        } catch (error) {
          // Another first start with the same claim wrote the admin first: it hands out the token.
          if (await store.users.get(admin.id)) return undefined;
          throw error;
        }
      }
      const token = await this.issueToken(admin, "admin (first start)");
      await store.meta.setIfAbsent(firstAdminTokenKey, "issued");
      return { token, user: admin };
    },

    async bootstrapAdmin(dataDirectory) {
      const tokenFile = path.join(dataDirectory, "admin-token");
      const first = await this.createFirstAdmin();
      if (!first) return { created: false, tokenFile };
      writeFileSync(tokenFile, first.token + "\n", { mode: 0o600 });
      chmodSync(tokenFile, 0o600);
      return { created: true, tokenFile };
    },
  };
}
