import { randomBytes } from "node:crypto";
import { expect, test } from "vitest";
import { createPreviewTokens } from "./preview-tokens.js";

const key = randomBytes(32);
const grant = { sessionID: "ses_a", port: 3000, workspaceID: "ws_a" };

test("a token opens its own session and port only, until it expires", async () => {
  let now = 1_700_000_000_000;
  const tokens = createPreviewTokens(key, 600, () => now);
  const { token, expiresAt } = await tokens.sign(grant);
  expect(expiresAt).toBe(1_700_000_600);
  await expect(tokens.verify(token, "ses_a", 3000)).resolves.toEqual({ ...grant, expiresAt });
  await expect(tokens.verify(token, "ses_a", 3001)).rejects.toMatchObject({ code: "preview_token_scope" });
  await expect(tokens.verify(token, "ses_b", 3000)).rejects.toMatchObject({ code: "preview_token_scope" });
  now += 601_000;
  await expect(tokens.verify(token, "ses_a", 3000)).rejects.toMatchObject({ code: "preview_token_invalid", message: expect.stringContaining("expired") });
});

test("missing, forged and other-key tokens are invalid", async () => {
  const tokens = createPreviewTokens(key, 600);
  const { token } = await tokens.sign(grant);
  const other = await createPreviewTokens(randomBytes(32), 600).sign(grant);
  for (const bad of [undefined, "", "x".repeat(2000), token.slice(0, -3) + "abc", other.token]) {
    await expect(tokens.verify(bad, "ses_a", 3000)).rejects.toMatchObject({ code: "preview_token_invalid" });
  }
});

test("a token verified once is still refused at its expiry second, and forged tokens beside it are refused", async () => {
  let now = 1_700_000_000_000;
  const tokens = createPreviewTokens(key, 600, () => now);
  const { token, expiresAt } = await tokens.sign(grant);
  for (let request = 0; request < 3; request += 1) await expect(tokens.verify(token, "ses_a", 3000)).resolves.toMatchObject({ expiresAt });
  const [header, payload] = token.split(".");
  const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), port: 3001 })).toString("base64url");
  await expect(tokens.verify(`${header}.${widened}.${token.split(".")[2]}`, "ses_a", 3001)).rejects.toMatchObject({ code: "preview_token_invalid" });
  await expect(tokens.verify(token, "ses_a", 3001)).rejects.toMatchObject({ code: "preview_token_scope" });
  now = (expiresAt - 1) * 1000 + 999;
  await expect(tokens.verify(token, "ses_a", 3000)).resolves.toMatchObject({ expiresAt });
  now = expiresAt * 1000;
  await expect(tokens.verify(token, "ses_a", 3000)).rejects.toMatchObject({ code: "preview_token_invalid", message: expect.stringContaining("expired") });
});
