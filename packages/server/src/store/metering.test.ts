import { describe, expect, test } from "vitest";
import { billsIn, hourKey, openCost, sliceByHour } from "./metering.js";

const at = (iso: string) => Date.parse(iso);

describe("metering arithmetic", () => {
  test("an interval is cut at clock hours and priced per piece", () => {
    const slices = sliceByHour(at("2026-11-25T09:45:00Z"), at("2026-11-25T11:15:00Z"), 0.0416);
    expect(slices.map((slice) => [slice.hour, slice.seconds])).toEqual([
      ["2026-11-25T09", 900],
      ["2026-11-25T10", 3600],
      ["2026-11-25T11", 900],
    ]);
    expect(slices.reduce((sum, slice) => sum + slice.costUSD, 0)).toBeCloseTo(0.0416 * 1.5, 10);
  });

  test("an empty or backward interval costs nothing", () => {
    expect(sliceByHour(at("2026-11-25T10:00:00Z"), at("2026-11-25T10:00:00Z"), 1)).toEqual([]);
    expect(sliceByHour(at("2026-11-25T10:00:00Z"), at("2026-11-25T09:00:00Z"), 1)).toEqual([]);
  });

  test("an interval ending on the hour stays in its hour; a day's hours share its first ten characters", () => {
    expect(sliceByHour(at("2026-11-25T23:30:00Z"), at("2026-11-26T00:00:00Z"), 2)).toEqual([
      { hour: "2026-11-25T23", seconds: 1800, costUSD: 1 },
    ]);
    expect(hourKey(at("2026-11-26T00:00:00Z")).slice(0, 10)).toBe("2026-11-26");
  });

  test("the open interval is priced up to now, and only from a lower bound on", () => {
    const since = "2026-11-25T09:30:00.000Z";
    expect(openCost(since, 3.6, at("2026-11-25T10:30:00Z"))).toBeCloseTo(3.6, 10);
    expect(openCost(since, 3.6, at("2026-11-25T10:30:00Z"), at("2026-11-25T10:00:00Z"))).toBeCloseTo(1.8, 10);
    expect(openCost(null, 3.6, at("2026-11-25T10:30:00Z"))).toBe(0);
    expect(openCost(since, 3.6, at("2026-11-25T09:00:00Z"))).toBe(0);
  });

  test("a machine bills while it exists; paused only where pausing keeps it", () => {
    for (const state of ["pending", "provisioning", "ready", "terminating"] as const) expect(billsIn(state, false)).toBe(true);
    for (const state of ["terminated", "failed"] as const) expect(billsIn(state, true)).toBe(false);
    expect(billsIn("paused", true)).toBe(true);
    expect(billsIn("paused", false)).toBe(false);
  });
});
