import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CiabError } from "@ciab/protocol";

/**
 * Seals secrets at rest (sandbox env today, workspace secrets and SSH keys next) with AES-256-GCM.
 * The key comes from CIAB_DATA_KEY (base64, 32 bytes) or `<data dir>/data-key` (created 0600 on first start).
 */
export interface DataKey {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

const version = "v1";

export function loadDataKey(dataDirectory: string, env: NodeJS.ProcessEnv = process.env): DataKey {
  const key = env.CIAB_DATA_KEY ? Buffer.from(env.CIAB_DATA_KEY, "base64") : readOrCreateKeyFile(dataDirectory);
  if (key.length !== 32) throw new CiabError("invalid_request", "CIAB_DATA_KEY must be 32 bytes, base64-encoded");
  return createDataKey(key);
}

export function createDataKey(key: Buffer): DataKey {
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [version, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(".");
    },
    open(sealed) {
      const [tag, iv, authTag, body] = sealed.split(".");
      if (tag !== version || !iv || !authTag || body === undefined) {
        throw new CiabError("internal", "sealed value has an unknown format");
      }
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
      decipher.setAuthTag(Buffer.from(authTag, "base64"));
      try {
        return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
      } catch (error) {
        throw new CiabError("internal", "cannot open a sealed value: wrong data key?", { cause: error });
      }
    },
  };
}

function readOrCreateKeyFile(dataDirectory: string): Buffer {
  const file = path.join(dataDirectory, "data-key");
  if (existsSync(file)) return Buffer.from(readFileSync(file, "utf8").trim(), "base64");
  const key = randomBytes(32);
  writeFileSync(file, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  return key;
}
