import { execFile } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";

const run = promisify(execFile);
const nobody = 65534;
const dataDirectory = mkdtempSync(path.join(os.tmpdir(), "ciab-nonroot-"));
afterAll(() => rmSync(dataDirectory, { recursive: true, force: true }));

// A developer's server, not root: bwrap makes the user namespace itself, no cgroup is writable, no uid is
// claimed, and jails still start, answer and go away.
test.runIf(process.getuid?.() === 0)("a server that is not root still runs jails, as its own uid", async () => {
  chownSync(dataDirectory, nobody, nobody);
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), "non-root-provision.ts");
  const { stdout } = await run(
    "setpriv",
    [`--reuid=${nobody}`, `--regid=${nobody}`, "--clear-groups", process.execPath, "--import", "tsx", script, dataDirectory],
    { env: { ...process.env, HOME: dataDirectory }, timeout: 60_000 },
  );
  const summary = JSON.parse(stdout.trim().split("\n").at(-1)!) as { health: number; details: Record<string, unknown>; listed: number; afterDestroy: number };
  expect(summary).toMatchObject({ health: 200, listed: 1, afterDestroy: 0, details: { isolation: "bwrap" } });
  expect(summary.details.jailUID).toBeUndefined();
  expect(summary.details.cgroups).toBeUndefined();
});
