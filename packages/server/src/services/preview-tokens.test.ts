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
