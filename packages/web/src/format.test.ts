import { describe, expect, test } from "vitest";
import { age, bytes, shorten, tagsText, usd } from "./format.js";

describe("formatting for the page", () => {
  test("ages, costs and sizes", () => {
    const now = Date.parse("2026-01-02T00:00:00Z");
    expect(age("2026-01-01T23:59:58Z", now)).toBe("2 s");
    expect(age("2026-01-01T23:55:00Z", now)).toBe("5 min");
    expect(age("2026-01-01T21:00:00Z", now)).toBe("3 h");
    expect(age("2025-12-30T00:00:00Z", now)).toBe("3 d");
    expect(age("not a date", now)).toBe("–");
    expect(age(null, now)).toBe("–");
    expect([usd(0), usd(0.004), usd(1.234), usd(Number.NaN)]).toEqual(["$0.00", "$0.0040", "$1.23", "–"]);
    expect([bytes(14), bytes(2048), bytes(30 * 1024 * 1024), bytes(5 * 1024 ** 4)]).toEqual(["14 B", "2.0 KiB", "30 MiB", "5.0 TiB"]);
  });

  test("tags and long texts", () => {
    expect(tagsText({ team: "web", ci: "" })).toBe("team=web, ci");
    expect(shorten("x".repeat(100), 10)).toBe(`${"x".repeat(9)}…`);
    expect(shorten(null)).toBe("");
  });
});
