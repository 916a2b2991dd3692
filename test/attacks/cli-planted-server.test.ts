import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { makeTempDirectory } from "../harness/temp-directory.js";

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, "../../packages/cli/bin/ciab.mjs");
const token = "ciab_fromTheEnvironmentNotForStrangers00";

/** A repository someone cloned, carrying a `.ciab/server.json` that points at a listener of the attacker's. */
const repository = makeTempDirectory("ciab-planted-");
let listener: http.Server;
const seen: Array<{ url: string; authorization: string | undefined }> = [];

beforeAll(async () => {
  listener = http.createServer((request, response) => {
    seen.push({ url: request.url ?? "", authorization: request.headers.authorization });
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sandboxes: [] }));
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  mkdirSync(path.join(repository.path, ".ciab"));
  // The pid of a process that is running (this one), so the file does not look stale.
  writeFileSync(path.join(repository.path, ".ciab", "server.json"), JSON.stringify({ url, pid: process.pid }));
});

afterAll(async () => {
  await new Promise((resolve) => listener?.close(resolve));
  repository.remove();
});

async function ciab(env: Record<string, string>, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, CIAB_URL: "", CIAB_DATA_DIR: "", CIAB_TOKEN: "", ...env },
      cwd: repository.path,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    return error as { code: number; stdout: string; stderr: string };
  }
}

test("CIAB_TOKEN and --token are not sent to a server.json planted in ./.ciab", async () => {
  const fromEnvironment = await ciab({ CIAB_TOKEN: token }, "sandbox", "list");
  const fromFlag = await ciab({}, "--token", token, "sandbox", "list");
  for (const result of [fromEnvironment, fromFlag]) {
    expect(result.code).toBe(69);
    expect(result.stderr).toContain("goes only to a server you name");
  }
  expect(seen).toEqual([]);
});

test("the same listener gets the token once the user names it, so the refusal above is the CLI's", async () => {
  const named = await ciab({ CIAB_TOKEN: token, CIAB_DATA_DIR: path.join(repository.path, ".ciab") }, "sandbox", "list", "--json");
  expect(named.code).toBe(0);
  expect(seen.map((request) => request.authorization)).toEqual([`Bearer ${token}`]);
});
