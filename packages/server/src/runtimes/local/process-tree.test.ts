import { describe, expect, test } from "vitest";
import { parseProcessStat, readProcessStat } from "./process-tree.js";

describe("parseProcessStat", () => {
  test("reads state, parent and start time after a comm holding spaces and parentheses", () => {
    const line = "4242 (my (odd) name) T 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 123 45";
    expect(parseProcessStat(line)).toEqual({ pid: 4242, state: "T", parentPID: 17, startTime: 987654 });
  });

  test("refuses garbage", () => {
    expect(parseProcessStat("nonsense")).toBeUndefined();
  });

  test("reads this process", async () => {
    const stat = await readProcessStat(process.pid);
    expect(stat?.pid).toBe(process.pid);
    expect(stat?.parentPID).toBe(process.ppid);
  });
});
