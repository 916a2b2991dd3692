import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes, webcrypto } from "node:crypto";
import path from "node:path";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { CiabError } from "@ciab/protocol";

/** What a preview token grants: one port of one session, in the workspace that owns it. */
export interface PreviewGrant {
  sessionID: string;
  port: number;
  workspaceID: string;
  /** The API token the URL was signed for: the preview works while it stands (decision 0046). */
  tokenID?: string | undefined;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export interface PreviewTokens {
  sign(grant: Omit<PreviewGrant, "expiresAt">): Promise<{ token: string; expiresAt: number }>;
  /** Throws `preview_token_invalid` for a missing, expired or forged token and `preview_token_scope` for another session or port. */
  verify(token: string | undefined, sessionID: string, port: number): Promise<PreviewGrant>;
}

const audience = "ciab-preview";
/** Longer tokens are not ours: refuse them before any crypto. */
const maximumTokenLength = 1024;

/** HS256 JWTs under a key that never leaves the server (`<data dir>/preview-key`, mode 0600). */
export function createPreviewTokens(keyBytes: Uint8Array, ttlSeconds: number, now: () => number = Date.now): PreviewTokens {
  // Imported once, rather than raw bytes that jose would import again on every request.
  const imported = webcrypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const verified = new VerifiedTokens();
  return {
    async sign(grant) {
      const issuedAt = Math.floor(now() / 1000);
      const expiresAt = issuedAt + ttlSeconds;
      const token = await new SignJWT({ wid: grant.workspaceID, port: grant.port, ...(grant.tokenID !== undefined && { tid: grant.tokenID }) })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(grant.sessionID)
        .setAudience(audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(await imported);
      return { token, expiresAt };
    },

    async verify(token, sessionID, port) {
      if (!token) throw new CiabError("preview_token_invalid", "this preview needs a token: ask GET /api/v1/sessions/{id}/ports for a signed URL");
      if (token.length > maximumTokenLength) throw new CiabError("preview_token_invalid", "the preview token is not valid");
      const grant = verified.get(token, now()) ?? verified.add(token, await verifySignature(token));
      if (grant.sessionID !== sessionID || grant.port !== port) {
        throw new CiabError("preview_token_scope", `this preview token is for another ${grant.sessionID !== sessionID ? "session" : "port"}`);
      }
      return grant;
    },
  };

  async function verifySignature(token: string): Promise<PreviewGrant> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, await imported, { algorithms: ["HS256"], audience, currentDate: new Date(now()) }));
    } catch (error) {
      const expired = error instanceof joseErrors.JWTExpired;
      throw new CiabError("preview_token_invalid", expired ? "the preview token expired: ask for a new URL" : "the preview token is not valid", {
        cause: error,
      });
    }
    const { sub, port: grantedPort, wid, exp, tid } = payload;
    if (typeof sub !== "string" || typeof grantedPort !== "number" || typeof wid !== "string" || typeof exp !== "number") {
      throw new CiabError("preview_token_invalid", "the preview token is not valid");
    }
    if (tid !== undefined && typeof tid !== "string") throw new CiabError("preview_token_invalid", "the preview token is not valid");
    return { sessionID: sub, port: grantedPort, workspaceID: wid, expiresAt: exp, ...(tid !== undefined && { tokenID: tid }) };
  }
}

/** Tokens whose signature checked out, kept so a page's burst of requests verifies its cookie once. */
const verifiedTokensKept = 1024;

/**
 * Grants of tokens already verified, by the token's exact text (the same text carries the same signature
 * under the same key). A grant is answered only until its token's expiry; the least recently used goes
 * first once the cache is full.
 */
class VerifiedTokens {
  readonly #grants = new Map<string, PreviewGrant>();

  get(token: string, nowMs: number): PreviewGrant | undefined {
    const grant = this.#grants.get(token);
    if (grant === undefined) return undefined;
    this.#grants.delete(token);
    // jose refuses a token at its `exp` second; so does the cache, and the caller verifies it again to say so.
    if (grant.expiresAt <= Math.floor(nowMs / 1000)) return undefined;
    this.#grants.set(token, grant);
    return grant;
  }

  add(token: string, grant: PreviewGrant): PreviewGrant {
    this.#grants.set(token, grant);
    if (this.#grants.size > verifiedTokensKept) this.#grants.delete(this.#grants.keys().next().value!);
    return grant;
  }
}

/** The signing key from `<data dir>/preview-key`, created on first start. */
export function loadPreviewKey(dataDirectory: string): Uint8Array {
  const file = path.join(dataDirectory, "preview-key");
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (key.length < 32) throw new CiabError("internal", `${file} holds fewer than 32 bytes`);
    return key;
  }
  const key = randomBytes(32);
  writeFileSync(file, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  return key;
}
