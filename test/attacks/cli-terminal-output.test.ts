import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, "../../packages/cli/bin/ciab.mjs");

/** What a hostile sandbox prints: a title, a clipboard write, a screen clear, a cursor move, hidden text; and colour. */
const hostile = String.raw`printf '\033]0;owned\007\033]52;c;ZXZpbA==\033\\\033[2J\033[1;1H\033[8mhidden\033[0m \033[31mred\033[0m\n'`;

let server: TestServer;
let sandboxID: string;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local" } });
  const created = await server.api("POST", "/sandboxes", { runtime: "local" });
  sandboxID = created.body.id;
});

afterAll(async () => {
  await server?.close();
});

async function ciab(terminal: boolean, ...args: string[]): Promise<string> {
  const env = { ...process.env, CIAB_URL: server.url, CIAB_TOKEN: server.token, CIAB_DATA_DIR: "" };
  const command = [process.execPath, bin, ...args];
  // `script` gives the CLI a pseudo-terminal as stdout, as a user's shell would.
  const quoted = command.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(" ");
  const { stdout } = terminal
    ? await run("script", ["-qec", quoted, "/dev/null"], { env })
    : await run(command[0]!, command.slice(1), { env });
  return stdout;
}

test("exec output on a terminal keeps colour and loses every other control sequence", async () => {
  const shown = await ciab(true, "sandbox", "exec", sandboxID, "--", hostile);
  expect(shown).toContain("\u001b[31mred\u001b[0m");
  expect(shown).not.toMatch(/\u001b\]|\u001b\[2J|\u001b\[1;1H|\u001b\[8m|\u0007/);
});

test("piped, the same output is exact, and --json stays raw JSON", async () => {
  const piped = await ciab(false, "sandbox", "exec", sandboxID, "--", hostile);
  expect(piped).toContain("\u001b]0;owned\u0007");
  const json = JSON.parse(await ciab(false, "sandbox", "exec", sandboxID, "--json", "--", hostile));
  expect(json.stdout).toContain("\u001b]52;c;");
});
