import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** What agentd presents: the one-time token from its user-data, then the channel secret it got for it. */
export const oneTimeTokenPrefix = "ciabot_";
export const channelSecretPrefix = "ciabcs_";

/** The 101 answer's header that carries a new channel secret (only on a connection made with the token). */
export const channelSecretHeader = "x-ciab-channel-secret";

export function newOneTimeToken(): string {
  return oneTimeTokenPrefix + randomBytes(32).toString("base64url");
}

export function newChannelSecret(): string {
  return channelSecretPrefix + randomBytes(32).toString("base64url");
}

/** Both are 256 random bits, so an unsalted SHA-256 is all the storage needs. */
export function credentialHash(credential: string): string {
  return createHash("sha256").update(credential).digest("hex");
}

export function sameHash(left: string, right: string): boolean {
  const a = Buffer.from(left, "hex");
  const b = Buffer.from(right, "hex");
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}
