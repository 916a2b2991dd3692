import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * HMAC signatures of download URLs: `expires` (unix seconds) and the artifact id, keyed by a secret kept
 * in the store's meta (so every replica signs and checks alike). The URL is the only credential.
 */
export function signDownload(key: Buffer, artifactID: string, expires: number): string {
  return createHmac("sha256", key).update(`download\n${artifactID}\n${expires}`).digest("base64url");
}

export function verifyDownload(key: Buffer, artifactID: string, expires: number, signature: string, now = Date.now()): "ok" | "expired" | "bad" {
  const expected = Buffer.from(signDownload(key, artifactID, expires));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "bad";
  return expires * 1000 < now ? "expired" : "ok";
}
