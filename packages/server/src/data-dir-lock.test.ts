import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { lockDataDirectory } from "./data-dir-lock.js";

/**
 * Takes the lock of each dir in `LOCK_DIRS` at its own instant (a busy wait, so two contenders try within
 * microseconds), holds a won lock until just before the next round, and prints one JSON line per round.
 */
const contender = `
const { lockDataDirectory } = await import(process.env.LOCK_MODULE);
const directories = JSON.parse(process.env.LOCK_DIRS);
const startAt = Number(process.env.START_AT);
const roundMs = Number(process.env.ROUND_MS);
const results = [];
for (const [round, directory] of directories.entries()) {
  while (Date.now() < startAt + round * roundMs) {}
  try {
    const lock = lockDataDirectory(directory);
    while (Date.now() < startAt + (round + 0.8) * roundMs) {}
    lock.release();
    results.push({ won: true });
  } catch (error) {
    results.push({ won: false, message: error.message });
  }
}
process.stdout.write(JSON.stringify(results));
`;

async function contend(directories: string[], startAt: number, roundMs: number): Promise<{ pid: number; results: { won: boolean; message?: string }[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", contender], {
    env: {
      ...process.env,
      LOCK_MODULE: fileURLToPath(new URL("./data-dir-lock.ts", import.meta.url)),
      LOCK_DIRS: JSON.stringify(directories),
      START_AT: String(startAt),
      ROUND_MS: String(roundMs),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  expect(code, stderr).toBe(0);
  return { pid: child.pid!, results: JSON.parse(stdout) };
}

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

  test("two processes racing for one data dir, free, stale or half written: exactly one wins every round", async () => {
    const rounds = 30;
    const gone = spawnSync("true").pid!;
    const leftovers = [undefined, JSON.stringify({ pid: gone, start: "1" }), "{"];
    const directories = Array.from({ length: rounds }, (_, round) => {
      const directory = temp();
      const leftover = leftovers[round % leftovers.length];
      if (leftover !== undefined) writeFileSync(path.join(directory, "server.lock"), leftover);
      return directory;
    });
    // Both load tsx first, then meet at each round's instant.
    const startAt = Date.now() + 3_000;
    const [first, second] = await Promise.all([contend(directories, startAt, 100), contend(directories, startAt, 100)]);
    for (let round = 0; round < rounds; round += 1) {
      const outcomes = [first!.results[round]!, second!.results[round]!];
      expect(outcomes.filter((outcome) => outcome.won), `round ${round}: ${JSON.stringify(outcomes)}`).toHaveLength(1);
      const winner = outcomes[0]!.won ? first! : second!;
      const loser = outcomes[0]!.won ? outcomes[1]! : outcomes[0]!;
      expect(loser.message).toBe(`another ciab server (pid ${winner.pid}) is using the data dir ${directories[round]}; stop it first, or give this one another --data-dir`);
    }
  }, 30_000);
});
