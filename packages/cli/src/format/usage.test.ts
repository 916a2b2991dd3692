import { describe, expect, it } from "vitest";
import { formatUsageTable } from "./usage.js";

describe("formatUsageTable", () => {
  it("shows the grouped columns, hours and cost, then the total", () => {
    const text = formatUsageTable({
      from: "2026-11-01",
      to: "2026-11-02",
      group_by: ["runtime", "day"],
      rows: [
        { runtime: "local", day: "2026-11-01", machine_seconds: 5400, cost_usd: 0.15 },
        { runtime: "ec2", day: "2026-11-02", machine_seconds: 360, cost_usd: 0.00416 },
      ],
      total_usd: 0.15416,
    });
    expect(text).toBe(
      [
        "RUNTIME  DAY         HOURS  COST",
        "local    2026-11-01  1.50   $0.1500",
        "ec2      2026-11-02  0.10   $0.0042",
        "total $0.1542 (2026-11-01 .. 2026-11-02)",
      ].join("\n"),
    );
  });

  it("says so when nothing was used", () => {
    expect(formatUsageTable({ from: "2026-11-01", to: "2026-11-01", group_by: ["day"], rows: [], total_usd: 0 })).toBe(
      "no usage 2026-11-01 .. 2026-11-01",
    );
  });
});
