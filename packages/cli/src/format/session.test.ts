import type { Session } from "@ciab/protocol";
import { describe, expect, it } from "vitest";
import { formatSessionTable } from "./session.js";

describe("formatSessionTable", () => {
  it("shows each session's age like sandbox list", () => {
    const session = {
      id: "ses_01",
      provider: "shell",
      state: "completed",
      exit_code: 0,
      sandbox_id: "sbx_01",
      cost_usd: 0,
      usage: { cost_usd: 0 },
      created_at: "2025-01-01T00:00:00.000Z",
    } as unknown as Session;
    const table = formatSessionTable([session], Date.parse("2025-01-01T03:00:00.000Z"));
    expect(table.split("\n")[0]).toMatch(/ AGE$/);
    expect(table.split("\n")[1]).toMatch(/ 3h$/);
  });
});
