import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";

describe("durations", () => {
  it("reads seconds and units", () => {
    expect(parseDuration("90")).toBe(90);
    expect(parseDuration("10s")).toBe(10);
    expect(parseDuration("5m")).toBe(300);
    expect(parseDuration("1h")).toBe(3600);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("2d")).toBe(172_800);
  });

  it("refuses what is not a duration", () => {
    for (const bad of ["", "0", "5x", "m5", "1.5h", "-3", "5m junk"]) expect(() => parseDuration(bad), bad).toThrow();
  });

  it("prints the largest exact units", () => {
    expect(formatDuration(300)).toBe("5m");
    expect(formatDuration(5400)).toBe("1h30m");
    expect(formatDuration(45)).toBe("45s");
    expect(formatDuration(86_400 + 1)).toBe("1d1s");
  });
});
