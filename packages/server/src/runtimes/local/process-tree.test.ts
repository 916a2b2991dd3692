import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import { isSameProcessAlive, listJailProcesses, parseProcessStat, readProcessStat, signalProcess, waitUntil } from "./process-tree.js";

describe("parseProcessStat", () => {
  test("reads state, parent and start time after a comm holding spaces and parentheses", () => {
    const line = "4242 (my (odd) name) T 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 123 45";
    expect(parseProcessStat(line)).toEqual({
      pid: 4242,
      state: "T",
      parentPID: 17,
      sessionID: 4242,
      startTime: 987654,
    });
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

describe("listJailProcesses", () => {
  test("finds a detached root's processes, even one reparented after the root died", async () => {
    // The shell leads a new session, leaves a sleep behind and exits: the sleep is reparented away from it.
    const root = spawn("sh", ["-c", "sleep 30 & echo $!"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
    const exited = new Promise((resolve) => root.once("exit", resolve));
    const orphanPID = Number(await new Promise<string>((resolve) => root.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString()))));
    const rootPID = root.pid ?? 0;
    const rootStart = (await readProcessStat(orphanPID))?.startTime ?? 0;
    await exited;
    const orphan = await readProcessStat(orphanPID);
    try {
      expect(orphan?.sessionID).toBe(rootPID);
      // The root is gone; its start time is bounded by its child's.
      const found = await listJailProcesses(rootPID, rootStart - 1);
      expect(found.map((stat) => stat.pid)).toContain(orphanPID);
    } finally {
      signalProcess(orphanPID, "SIGKILL");
      await waitUntil(async () => !(await isSameProcessAlive(orphanPID, orphan?.startTime ?? 0)), 2_000);
    }
  });
});
