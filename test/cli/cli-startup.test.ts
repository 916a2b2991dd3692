import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, "../../packages/cli/bin/ciab.mjs");
let dataDirectory: string;

beforeAll(async () => {
  dataDirectory = await mkdtemp(path.join(tmpdir(), "ciab-cli-"));
});
afterAll(async () => {
  await rm(dataDirectory, { recursive: true, force: true });
});

async function ciab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, CIAB_DATA_DIR: dataDirectory, CIAB_URL: "", CIAB_TOKEN: "", HOME: dataDirectory, XDG_CONFIG_HOME: "" };
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env, cwd: dataDirectory });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("the ciab binary", () => {
  it("prints help", async () => {
    const result = await ciab("sandbox", "exec", "--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: ciab sandbox exec [options] <id> -- <command...>");
  });

  it("says how to start a server when there is none", async () => {
    const result = await ciab("sandbox", "list");
    expect(result).toMatchObject({ code: 69, stdout: "" });
    expect(result.stderr).toBe(
      "error: no ciab server found: start one with `npx ciab server`, set CIAB_URL, or save one with `ciab login` (server_not_found)\n",
    );
  });

  it("prints the error object with --json", async () => {
    const result = await ciab("sandbox", "get", "sbx_1", "--json");
    expect(result.code).toBe(69);
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        code: "server_not_found",
        message: "no ciab server found: start one with `npx ciab server`, set CIAB_URL, or save one with `ciab login`",
      },
    });
  });

  it("rejects a cp without a sandbox side before connecting", async () => {
    const result = await ciab("sandbox", "cp", "a", "b");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("one side of cp must be a sandbox path");
  });
});
