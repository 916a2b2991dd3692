import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { lockDataDirectory } from "./data-dir-lock.js";

describe("the data dir lock", () => {
  const directories: string[] = [];
  const temp = () => {
    const directory = mkdtempSync(path.join(tmpdir(), "ciab-lock-"));
    directories.push(directory);
    return directory;
  };
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });

  test("is held once per data dir, also within one process, and released on close", () => {
    const directory = temp();
    const lock = lockDataDirectory(directory);
    expect(() => lockDataDirectory(directory)).toThrow(`another ciab server (pid ${process.pid}) is using the data dir ${directory}`);
    lock.release();
    lockDataDirectory(directory).release();
  });

  test("a lock left by a process that is gone (a crash) does not block", () => {
    const directory = temp();
    const gone = spawnSync("true").pid!;
    writeFileSync(path.join(directory, "server.lock"), JSON.stringify({ pid: gone, start: "1" }));
    const lock = lockDataDirectory(directory);
    expect(JSON.parse(readFileSync(lock.file, "utf8")).pid).toBe(process.pid);
    lock.release();
    // Unreadable leftovers (a crash mid-write) are stale too.
    writeFileSync(path.join(directory, "server.lock"), "{");
    lockDataDirectory(directory).release();
  });

  test("a live owner blocks; a live process that reused the pid does not", async () => {
    const directory = temp();
    const other = spawn("sleep", ["30"]);
    try {
      const stat = readFileSync(`/proc/${other.pid}/stat`, "utf8");
      const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
      writeFileSync(path.join(directory, "server.lock"), JSON.stringify({ pid: other.pid, start }));
      expect(() => lockDataDirectory(directory)).toThrow(/another ciab server \(pid \d+\)/);
      writeFileSync(path.join(directory, "server.lock"), JSON.stringify({ pid: other.pid, start: "12345" }));
      lockDataDirectory(directory).release();
    } finally {
      other.kill("SIGKILL");
    }
  });
});
