import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = path.join(root, "packages", "cli", "bin", "ciab.mjs");

/** The `sh` blocks of the README's tour, in order. */
function tourBlocks(): string[] {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const tour = readme.slice(readme.indexOf("## A tour"), readme.indexOf("## Agent sessions"));
  return [...tour.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** The README's tour, verbatim but for where the server listens and how `ciab` is reached. */
describe("the README's tour", () => {
  const data = makeTempDirectory("ciab-tour-");
  const work = makeTempDirectory("ciab-tour-work-");
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServerProcess(data.path);
  });
  afterAll(async () => {
    await server?.kill("SIGTERM");
    data.remove();
    work.remove();
  });

  const run = (script: string) => {
    const address = new URL(server.url).host;
    const adapted = script
      .replaceAll("npx ciab", `node ${cli}`)
      .replaceAll("localhost:8420", address)
      .replaceAll(".ciab/admin-token", path.join(data.path, "admin-token"));
    return spawnSync("bash", ["-euo", "pipefail", "-c", adapted], {
      cwd: work.path,
      env: { ...process.env, CIAB_DATA_DIR: data.path, CIAB_URL: "", CIAB_TOKEN: "" },
      encoding: "utf8",
      timeout: 240_000,
    });
  };

  test("the CLI part runs as written", () => {
    const [commands] = tourBlocks();
    const result = run(commands!);
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain("hello\n");
    expect(result.stdout).toMatch(/^\d+\s+exited 0\s+.*tar -x -C \/tmp$/m);
  });

  test("the curl part runs as written", () => {
    const [, curls] = tourBlocks();
    const result = run(curls!);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('"exit_code":0');
    expect(result.stdout).toContain("event: exec.output");
    expect(result.stdout).toContain('"state":"terminated"');
  });
});
