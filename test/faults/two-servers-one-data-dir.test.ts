import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";
import { makeTempDirectory } from "../harness/temp-directory.js";

const cliPath = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");
const temps: { remove(): void }[] = [];

afterAll(() => {
  for (const temp of temps) temp.remove();
});

interface Racer {
  pid: number;
  /** Resolves true once the server listens, false if it exits first. */
  listening: Promise<boolean>;
  exited: Promise<{ code: number | null; stderr: string }>;
  stop(): void;
}

function startRacer(dataDirectory: string): Racer {
  const child = spawn(process.execPath, [cliPath, "server", "--port", "0", "--data-dir", dataDirectory], {
    env: { ...process.env, CIAB_SERVER_LOG_LEVEL: "warn", CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
  const listening = new Promise<boolean>((resolve) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("listening on")) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  return { pid: child.pid!, listening, exited, stop: () => child.kill("SIGTERM") };
}

/**
 * Two servers started at the same moment on one data dir that holds a crashed server's lock: one serves, the
 * other exits with an error naming the winner. A round costs two whole server starts, so there is one; the
 * lock's own test (data-dir-lock.test.ts) races processes for many rounds at the same microsecond.
 */
test("two servers racing for one data dir: one serves, the other exits with a clear error", async () => {
  const gone = spawnSync("true").pid!;
  for (let round = 0; round < 1; round += 1) {
    const temp = makeTempDirectory("ciab-race-");
    temps.push(temp);
    writeFileSync(path.join(temp.path, "server.lock"), JSON.stringify({ pid: gone, start: "1" }));
    const racers = [startRacer(temp.path), startRacer(temp.path)];
    try {
      // The winner stays up until the loser has settled, so a loser slower to load still meets a live owner.
      const settled = await Promise.race(racers.map(async (racer, index) => ({ index, listened: await racer.listening })));
      const other = racers[1 - settled.index]!;
      const otherListened = await other.listening;
      expect([settled.listened, otherListened].filter(Boolean), `round ${round}`).toHaveLength(1);
      const winner = settled.listened ? racers[settled.index]! : other;
      const loser = settled.listened ? other : racers[settled.index]!;
      const { code, stderr } = await loser.exited;
      expect(code).not.toBe(0);
      expect(stderr).toContain(`another ciab server (pid ${winner.pid}) is using the data dir ${temp.path}`);
    } finally {
      for (const racer of racers) racer.stop();
      await Promise.all(racers.map((racer) => racer.exited));
    }
  }
}, 60_000);
