import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { utils } from "ssh2";
import { describe, expect, test } from "vitest";
import { generateSSHKeyPair } from "./ssh-key-pair.js";

describe("generateSSHKeyPair", () => {
  test("ssh2 parses the private key, and it signs for the public key", () => {
    const pair = generateSSHKeyPair("ciab-test");
    const privateKey = utils.parseKey(pair.privateKey);
    const publicKey = utils.parseKey(pair.publicKey);
    if (privateKey instanceof Error || publicKey instanceof Error) throw privateKey instanceof Error ? privateKey : publicKey;
    const parsedPrivate = Array.isArray(privateKey) ? privateKey[0]! : privateKey;
    const parsedPublic = Array.isArray(publicKey) ? publicKey[0]! : publicKey;
    expect(parsedPrivate.type).toBe("ssh-ed25519");
    const data = Buffer.from("challenge");
    expect(parsedPublic.verify(data, parsedPrivate.sign(data))).toBe(true);
    expect(pair.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/=]+ ciab-test$/);
  });

  test("ssh-keygen derives the same public key from the private key", () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), "ciab-key-"));
    try {
      const pair = generateSSHKeyPair("ciab-test");
      const file = path.join(directory, "id");
      writeFileSync(file, pair.privateKey, { mode: 0o600 });
      const derived = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim();
      expect(derived.split(" ").slice(0, 2)).toEqual(pair.publicKey.split(" ").slice(0, 2));
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
