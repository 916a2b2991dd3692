import { createHash, randomBytes } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CiabError } from "@ciab/protocol";
import type { Store } from "../store/store.js";
import type { UserRecord } from "../store/records.js";
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
}

export interface AuthService {
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** Creates a token for a user; the text is returned once and only its hash is stored. */
  issueToken(user: UserRecord, name: string): Promise<string>;
  /** On first start: a default workspace, an installation admin and its token in `<data dir>/admin-token`. */
  bootstrapAdmin(dataDirectory: string): Promise<{ created: boolean; tokenFile: string }>;
}

const tokenPattern = /^ciab_[A-Za-z0-9_-]{20,200}$/;
/** Verified tokens are cached briefly so hot paths (exec) skip the database; revocation lags by this much. */
const cacheTtlMs = 5_000;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function createAuthService(store: Store): AuthService {
  const cache = new Map<string, { principal: Principal; expiresAt: number }>();
  return {
    async authenticate(authorization) {
      const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (!token) throw new CiabError("unauthorized", "missing bearer token: send `Authorization: Bearer ciab_…`");
      if (!tokenPattern.test(token)) throw new CiabError("unauthorized", "malformed token");
      const hash = hashToken(token);
      const cached = cache.get(hash);
      if (cached && cached.expiresAt > Date.now()) return cached.principal;
      const found = await store.tokens.findByHash(hash);
      if (!found) throw new CiabError("unauthorized", "unknown or revoked token");
      const principal: Principal = {
        userID: found.user.id,
        workspaceID: found.token.workspaceID,
        role: found.user.role,
        installationAdmin: found.user.installationAdmin,
        tokenID: found.token.id,
      };
      if (cache.size > 10_000) cache.clear();
      cache.set(hash, { principal, expiresAt: Date.now() + cacheTtlMs });
      return principal;
    },
    async issueToken(user, name) {
      const token = `ciab_${randomBytes(30).toString("base64url")}`;
      await store.tokens.create({
        id: newID("tok"),
        userID: user.id,
        workspaceID: user.workspaceID,
        name,
        hash: hashToken(token),
        createdAt: new Date().toISOString(),
        revokedAt: null,
      });
      return token;
    },
    async bootstrapAdmin(dataDirectory) {
      const tokenFile = path.join(dataDirectory, "admin-token");
      if ((await store.users.count()) > 0) return { created: false, tokenFile };
      const now = new Date().toISOString();
      const workspaceID = newID("ws");
      await store.workspaces.create({ id: workspaceID, name: "default", createdAt: now });
      const admin: UserRecord = { id: newID("usr"), workspaceID, name: "admin", role: "admin", installationAdmin: true, createdAt: now };
      await store.users.create(admin);
      const token = await this.issueToken(admin, "admin (first start)");
      writeFileSync(tokenFile, token + "\n", { mode: 0o600 });
      chmodSync(tokenFile, 0o600);
      return { created: true, tokenFile };
    },
  };
}
