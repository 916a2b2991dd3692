import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, "..", "..", "packages", "cli", "bin", "ciab.mjs");
const sleepy = path.join(here, "templates", "sleepy.pkr.hcl");

/** `ciab image build|list|status|delete` with --json, through the SDK, against a server process. */
describe("ciab image", () => {
  const data = makeTempDirectory("ciab-cli-");
  const work = makeTempDirectory("ciab-packer-");
  let server: ServerProcess;
  const ciab = (args: string[]) => {
    const result = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, CIAB_DATA_DIR: data.path, CIAB_URL: "", CIAB_TOKEN: "" }, encoding: "utf8", timeout: 60_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  beforeAll(async () => {
    server = await startServerProcess(data.path, { CIAB_PACKER_WORK_DIR: work.path });
  });
  afterAll(async () => {
    await server?.kill("SIGTERM");
    data.remove();
    work.remove();
  });

  test("build --wait, status, list and delete with --json", () => {
    const built = ciab(["image", "build", "--template", sleepy, "--var", "seconds=1", "--wait", "--json"]);
    // The null builder makes no image: the build fails with Packer's word for it, and the exit code says so
    // (1: the build's own outcome, like a command's; ciab's own failures are 125).
    expect(built.code, built.stderr).toBe(1);
    const build = JSON.parse(built.stdout) as { id: string; state: string; error: string };
    expect(build).toMatchObject({ state: "failed", error: expect.stringMatching(/image artifact|no artifacts/) });
    const status = ciab(["image", "status", build.id, "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: build.id, state: "failed" });
    const listed = ciab(["image", "list", "--json"]);
    expect(JSON.parse(listed.stdout)).toEqual({ images: [] });
    const removed = ciab(["image", "delete", "img_00000000000000000000000000", "--json"]);
    expect(removed.code).toBe(125);
    expect(JSON.parse(removed.stdout).error.code).toBe("not_found");
  });

  test("--wait --verbose prints Packer's log; on a terminal --wait draws a progress bar", () => {
    const verbose = ciab(["image", "build", "--template", sleepy, "--var", "seconds=1", "--wait", "--verbose"]);
    expect(verbose.code, verbose.stderr).toBe(1);
    expect(verbose.stderr).toMatch(/sleeping for bld_/);
    expect(verbose.stdout).toMatch(/state\s+failed/);
    // `script` gives the command a pseudo-terminal, as a person's shell would.
    const command = [process.execPath, cli, "image", "build", "--template", sleepy, "--var", "seconds=2", "--wait"].join(" ");
    const onTerminal = spawnSync("script", ["-qefc", command, "/dev/null"], { env: { ...process.env, CIAB_DATA_DIR: data.path, CIAB_URL: "", CIAB_TOKEN: "", COLUMNS: "120" }, encoding: "utf8", timeout: 60_000 });
    expect(onTerminal.stdout).toMatch(/\r\x1b\[2K\S \[[#-]{20}\]\s+\d+%\s+(queued|building)/);
    expect(onTerminal.stdout).toMatch(/state\s+failed/);
  });

  test("a bad --var is a usage error before anything is sent; an unknown provider is the server's typed error", () => {
    const bad = ciab(["image", "build", "--var", "novalue"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--var novalue: expected key=value/);
    const provider = ciab(["image", "build", "--provider", "nope", "--json"]);
    expect(JSON.parse(provider.stdout).error).toMatchObject({ code: "invalid_request", message: expect.stringMatching(/unknown provider nope/) });
  });
});
