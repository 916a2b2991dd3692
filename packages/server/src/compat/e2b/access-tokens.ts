import { randomBytes } from "node:crypto";
import { CiabError } from "@ciab/protocol";
import { signDownload, verifyDownload } from "../../artifacts/download-signature.js";
import type { DataKey } from "../../data-key.js";
import { hasPrefix } from "../../ids.js";
import type { Principal } from "../../services/auth-service.js";
import type { Store } from "../../store/store.js";

/**
 * E2B's envd access token (`X-Access-Token`), handed out at create and connect: an HMAC-signed value naming
 * one sandbox and the API token it was issued to, signed like download URLs (one HMAC helper, its own key in
 * the store's meta, so every replica signs and checks alike). The key is sealed with the data key there:
 * the store holds token ids, so with the key in clear a copy of the store would sign its way into every
 * sandbox, where the hashed API tokens give it nothing. It lives as long as E2B's longest sandbox,
 * and less: every call checks that the API token and its user still stand, so a revoke, an expiry or a
 * removed user ends it, and the sandbox lookup scoped to the token's workspace ends it with the sandbox.
 */
export const accessTokenTTLSeconds = 24 * 3600;
const signingKeyName = "e2b_envd_sealed_access_key";
/** Longer values are not ours: refused before any crypto. */
const maximumLength = 512;

export interface AccessGrant {
  sandboxID: string;
  principal: Principal;
}

export function createAccessTokens(store: Store, dataKey: DataKey, now: () => number = Date.now) {
  let key: Buffer | undefined;
  async function signingKey(): Promise<Buffer> {
    key ??= Buffer.from(dataKey.open(await store.meta.setIfAbsent(signingKeyName, dataKey.seal(randomBytes(32).toString("base64")))), "base64");
    return key;
  }
  const signedText = (sandboxID: string, workspaceID: string, userID: string, tokenID: string) =>
    `e2b-envd\n${sandboxID}\n${workspaceID}\n${userID}\n${tokenID}`;

  return {
    async issue(principal: Principal, sandboxID: string): Promise<string> {
      const tokenEnd = principal.tokenExpiresAt ? Math.floor(Date.parse(principal.tokenExpiresAt) / 1000) : Infinity;
      const expires = Math.min(Math.floor(now() / 1000) + accessTokenTTLSeconds, tokenEnd);
      const signature = signDownload(await signingKey(), signedText(sandboxID, principal.workspaceID, principal.userID, principal.tokenID), expires);
      return [sandboxID, principal.workspaceID, principal.userID, principal.tokenID, expires, signature].join(".");
    },

    /** The sandbox and the principal a token stands for; `unauthorized` for anything else. */
    async verify(token: string | undefined, sandboxID: string | undefined): Promise<AccessGrant> {
      if (!token) throw new CiabError("unauthorized", "send the sandbox's envd access token as X-Access-Token");
      const parts = token.length <= maximumLength ? token.split(".") : [];
      const [sandbox = "", workspaceID = "", userID = "", tokenID = "", expiresText = "", signature = ""] = parts;
      const wellFormed =
        parts.length === 6 && hasPrefix(sandbox, "sbx") && hasPrefix(workspaceID, "ws") && hasPrefix(userID, "usr") && hasPrefix(tokenID, "tok") && /^\d{1,12}$/.test(expiresText);
      if (!wellFormed) throw new CiabError("unauthorized", "the access token is not valid");
      const verdict = verifyDownload(await signingKey(), signedText(sandbox, workspaceID, userID, tokenID), Number(expiresText), signature, now());
      if (verdict === "bad") throw new CiabError("unauthorized", "the access token is not valid");
      if (verdict === "expired") throw new CiabError("unauthorized", "the access token expired: connect to the sandbox again for a fresh one");
      // A token of another sandbox is not a key to this one; which sandboxes exist is not told either.
      if (sandboxID !== sandbox) throw new CiabError("sandbox_not_found", `no sandbox ${sandboxID ?? ""} in this workspace`);
      return { sandboxID: sandbox, principal: await standingPrincipal(workspaceID, userID, tokenID) };
    },
  };

  /**
   * The principal of an API token while it and its user stand, with the token's narrowing applied as
   * AuthService applies it: a member-narrowed token acts as a member and holds no installation rights.
   */
  async function standingPrincipal(workspaceID: string, userID: string, tokenID: string): Promise<Principal> {
    const [token, user] = await Promise.all([store.tokens.get(workspaceID, tokenID), store.users.get(userID)]);
    const expired = token?.expiresAt && Date.parse(token.expiresAt) <= now();
    if (!token || token.userID !== userID || token.revokedAt !== null || expired || !user || user.removedAt) {
      throw new CiabError("unauthorized", "the API token this access token was issued to was revoked or expired");
    }
    const narrowed = token.role === "member";
    return {
      userID,
      workspaceID,
      role: narrowed ? "member" : user.role,
      installationAdmin: user.installationAdmin && !narrowed,
      tokenID,
      tokenExpiresAt: token.expiresAt ?? null,
    };
  }
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;
