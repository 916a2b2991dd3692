import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");

/** `ciab token|user|workspace`, sandbox timeouts, early checks and the data dir lock, against a running server. */
describe("the ciab CLI: accounts, lifetimes and the server's everyday behaviour", () => {
  const data = makeTempDirectory("ciab-cli-accounts-");
  let server: ServerProcess;
  const ciab = (args: string[], env: Record<string, string> = {}) => {
    const result = spawnSync(process.execPath, [cli, ...args], {
      env: { ...process.env, CIAB_DATA_DIR: data.path, CIAB_URL: "", CIAB_TOKEN: "", ...env },
      cwd: data.path,
      encoding: "utf8",
      timeout: 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const json = (args: string[], env?: Record<string, string>) => {
    const result = ciab([...args, "--json"], env);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    server = await startServerProcess(data.path);
  });
  afterAll(async () => {
    const listed = ciab(["sandbox", "list", "--json"]);
    for (const sandbox of (JSON.parse(listed.stdout || "{}").sandboxes ?? []) as { id: string }[]) ciab(["sandbox", "rm", sandbox.id]);
    await server?.kill("SIGTERM");
    data.remove();
  });

  test("token create shows the text once; the token works until revoked", () => {
    const created = json(["token", "create", "ci", "--role", "member", "--expires", "1h"]);
    expect(created).toMatchObject({ name: "ci", role: "member" });
    const asCI = { CIAB_URL: server.url, CIAB_TOKEN: created.token };
    expect(ciab(["sandbox", "list"], asCI).code).toBe(0);

    const listed = ciab(["token", "list"]);
    expect(listed.stdout).toContain(created.id);
    expect(listed.stdout).not.toContain(created.token);
    const human = ciab(["token", "create", "other"]);
    expect(human.stdout.trim().split("\n").at(-1)).toMatch(/^ciab_/);

    expect(ciab(["token", "revoke", created.id]).stdout).toContain(`revoked ${created.id}`);
    const refused = ciab(["sandbox", "list"], asCI);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("unauthorized");
    expect(ciab(["token", "create", "x", "--expires", "soon"]).code).not.toBe(0);
  });

  test("workspace create/list with unique names; user add/list/set-role/rm", () => {
    const team = json(["workspace", "create", "team-b", "--user-name", "carol", "--role", "admin"]);
    expect(team).toMatchObject({ workspace: { name: "team-b" }, user: { name: "carol", role: "admin" } });
    const again = ciab(["workspace", "create", "team-b"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("already_exists");
    expect(json(["workspace", "list"]).workspaces.map((workspace: { name: string }) => workspace.name)).toEqual(
      expect.arrayContaining(["default", "team-b"]),
    );
    // Carol administers her workspace only.
    const asCarol = { CIAB_URL: server.url, CIAB_TOKEN: team.token };
    expect(json(["workspace", "list"], asCarol).workspaces).toHaveLength(1);
    const dave = json(["user", "add", "dave"], asCarol);
    expect(dave.user.role).toBe("member");
    expect(ciab(["user", "list"], asCarol).stdout).toMatch(/dave\s+member/);
    expect(json(["user", "set-role", dave.user.id, "admin"], asCarol).role).toBe("admin");
    const removed = ciab(["user", "rm", dave.user.id], asCarol);
    expect(removed.stdout, `exit ${removed.code}: ${removed.stderr}`).toContain("their tokens no longer work");
    expect(ciab(["sandbox", "list"], { CIAB_URL: server.url, CIAB_TOKEN: dave.token }).code).not.toBe(0);
    expect(ciab(["user", "list", "--workspace", team.workspace.id]).stdout).not.toContain("dave");
  });

  test("sandbox create --timeout, get shows the lifetime, set-timeout extends it", () => {
    const sandbox = json(["sandbox", "create", "--timeout", "10m", "--on-timeout", "delete"]);
    expect(sandbox).toMatchObject({ timeout_secs: 600, on_timeout: "delete", delete_after: null });
    expect(Date.parse(sandbox.expires_at) - Date.now()).toBeGreaterThan(590_000);
    const shown = ciab(["sandbox", "get", sandbox.id]).stdout;
    expect(shown).toMatch(/timeout\s+10m, then delete/);
    expect(shown).toMatch(/expires\s+\d{4}-/);
    const extended = json(["sandbox", "set-timeout", sandbox.id, "1h"]);
    expect(extended.timeout_secs).toBe(3600);
    expect(Date.parse(extended.expires_at) - Date.now()).toBeGreaterThan(3590_000);
    expect(ciab(["sandbox", "set-timeout", sandbox.id, "5x"]).code).not.toBe(0);
    expect(ciab(["sandbox", "create", "--timeout", "0"]).code).not.toBe(0);
    ciab(["sandbox", "rm", sandbox.id]);
  });

  test("run without the provider's key fails at once; session cancel waits for the end and records 130", async () => {
    const started = Date.now();
    const run = ciab(["run", "--provider", "claude-code", "hello"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("provider_key_missing");
    expect(run.stderr).toContain("ciab secret set ANTHROPIC_API_KEY");
    expect(Date.now() - started).toBeLessThan(10_000);

    const client = new Ciab({ url: server.url, token: server.token });
    const session = await client.sessions.create({ provider: "shell", prompt: "sleep 60", runtime: "local" });
    for await (const event of client.sessions.follow(session.id)) if (event.type === "session.state.changed" && event.data.state === "running") break;
    const cancelled = json(["session", "cancel", session.id]);
    expect(cancelled).toMatchObject({ state: "cancelled", exit_code: 130 });
  });

  test("a second server on the same data dir refuses to start and says why", () => {
    const second = ciab(["server", "--port", "0"]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`another ciab server (pid ${server.child.pid}) is using the data dir`);
    // The first one is untouched.
    expect(ciab(["sandbox", "list"]).code).toBe(0);
  });
});
