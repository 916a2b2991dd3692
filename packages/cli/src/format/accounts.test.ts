import { describe, expect, it } from "vitest";
import { formatCreatedToken, formatTokenTable } from "./accounts.js";

const token = {
  id: "tok_01",
  name: "ci",
  user_id: "usr_01",
  role: "member" as const,
  created_at: "2025-01-01T00:00:00.000Z",
  expires_at: null,
  last_used_at: "2025-01-01T00:04:00.000Z",
  revoked_at: null,
};

describe("token output", () => {
  it("lists tokens with last use as an age", () => {
    const text = formatTokenTable([token], Date.parse("2025-01-01T00:05:00.000Z"));
    expect(text).toContain("tok_01");
    expect(text).toContain("never");
    expect(text).toMatch(/1m ago/);
  });

  it("puts the secret on the last line", () => {
    expect(formatCreatedToken({ ...token, token: "ciab_secret" }).split("\n").at(-1)).toBe("ciab_secret");
  });
});
