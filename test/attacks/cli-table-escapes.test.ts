import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { formatProcessTable } from "../../packages/cli/src/format/process.js";
import { formatSandboxSummary } from "../../packages/cli/src/format/sandbox.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, "../../packages/cli/bin/ciab.mjs");

/**
 * Tables and fields show what others wrote: a process's command (agentd, inside the sandbox, reports it), a
 * failure message, tags. Written to my terminal, escape sequences would write my clipboard (OSC 52), retitle
 * the window, hide text, and a line break would forge a row. On a terminal the CLI filters what it prints,
 * but a table is as often piped through grep or column to one, and there it went out raw.
 */
const hostile = "sleep 60 # \u001b]52;c;ZXZpbA==\u0007\u001b]0;owned\u0007\u001b[8mhidden\u001b[0m\nFORGED 1 running";
const escapes = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
});

afterAll(async () => {
  await server?.close();
});

test("ciab sandbox ps, piped (as through grep), prints a hostile command as one plain line", async () => {
  const sandbox = (await server.api("POST", "/sandboxes", { runtime: "local" })).body;
  const started = await server.api("POST", `/sandboxes/${sandbox.id}/processes`, { command: ["/bin/sh", "-c", hostile] });
  expect(started.status).toBe(201);
  const env = { ...process.env, CIAB_URL: server.url, CIAB_TOKEN: server.token, CIAB_DATA_DIR: "" };
  const { stdout } = await run(process.execPath, [bin, "sandbox", "ps", sandbox.id], { env });
  expect(stdout).not.toMatch(escapes);
  expect(stdout.split("\n").filter((line) => line.trim() !== "")).toHaveLength(2);
  await server.api("DELETE", `/sandboxes/${sandbox.id}`);
});

test("formatted tables and fields drop control sequences from every value", () => {
  const table = formatProcessTable([
    { pid: 7, command: ["/bin/sh", "-c", hostile], running: true, exit_code: null, signal: null, pty: false, tag: "t\u001b]0;x\u0007", started_at: new Date().toISOString() },
  ] as never);
  expect(table).not.toMatch(escapes);
  const summary = formatSandboxSummary({
    id: "sbx_1",
    name: "n",
    state: "failed",
    runtime: "docker",
    image: "img\u001b[2J",
    cost_usd: 0,
    tags: { k: "v\u001b]52;c;ZXZpbA==\u0007" },
    persistence: "ephemeral",
    failure: { reason: "agent_unreachable", message: "agentd said \u001b[1;1H\u001b[8mhidden\nfailure  forged" },
  } as never);
  expect(summary).not.toMatch(escapes);
});
