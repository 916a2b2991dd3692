import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab, CostCapReachedError } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");
const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the hourly cost cap and usage reports", () => {
  let server: TestServer;
  let ciab: Ciab;
  beforeAll(async () => {
    // A local machine costs $1 a second; the workspace may burn $0.5 an hour.
    server = await startTestServer({
      env: { CIAB_BUDGET_LOCAL_USD_PER_HOUR: "3600", CIAB_EC2_MAX_HOURLY_USD: "0.5" },
    });
    ciab = new Ciab({ url: server.url, token: server.token });
  });
  afterAll(async () => {
    await server?.close();
  });

  test("past the cap, new sessions and sandboxes fail with cost_cap_reached (429) until the hour turns", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "local" });
    await sleep(Math.max(0, 600 - (Date.now() - Date.parse(sandbox.info.created_at))));
    expect((await ciab.sandboxes.get(sandbox.id)).info.cost_usd).toBeGreaterThanOrEqual(0.5);

    const session = await server.api("POST", "/sessions", { provider: "shell", prompt: "true", runtime: "local" });
    expect(session.status).toBe(429);
    expect(session.body.error).toMatchObject({ code: "cost_cap_reached", context: { cap_usd: 0.5 } });
    expect(Date.parse(session.body.error.context.resets_at) % 3_600_000).toBe(0);
    const another = await server.api("POST", "/sandboxes", { runtime: "local" });
    expect(another.status).toBe(429);
    expect(another.body.error.code).toBe("cost_cap_reached");
    await expect(ciab.sessions.create({ provider: "shell", prompt: "true", sandbox_id: sandbox.id })).rejects.toBeInstanceOf(CostCapReachedError);

    // What the refusal said is there to be asked before anything is refused: the budget, through API, SDK and CLI.
    const budget = await ciab.usage.budget();
    expect(budget).toMatchObject({ workspace_id: expect.stringMatching(/^ws_/), cap_usd: 0.5, resets_at: session.body.error.context.resets_at });
    expect(budget.spent_usd).toBeGreaterThanOrEqual(0.5);
    const printed = await execFileAsync(process.execPath, [cli, "budget"], { env: { ...process.env, CIAB_URL: server.url, CIAB_TOKEN: server.token } });
    expect(printed.stdout).toMatch(/^spent \$\d+\.\d{4} this hour of a \$0\.5000 hourly cap \(\$0\.0000 left\); the hour resets at \d{4}-/);
    const team = await server.api("POST", "/workspaces", { name: "budget-other" });
    expect((await server.api("GET", "/budget", undefined, { token: team.body.token })).body).toMatchObject({ workspace_id: team.body.workspace.id, spent_usd: 0 });
    expect((await server.api("GET", "/budget?cap=1")).body.error.code).toBe("invalid_request");

    const deleted = await ciab.sandboxes.delete(sandbox.id);
    expect(deleted.cost_usd).toBeGreaterThanOrEqual(0.5);
  });

  test("usage by workspace, user, runtime and day; members see their own workspace only", async () => {
    const all = await server.api("GET", "/admin/usage");
    expect(all.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(all.body).toMatchObject({ to: today, group_by: ["workspace", "user", "runtime", "day"] });
    const row = all.body.rows.find((entry: { runtime: string }) => entry.runtime === "local");
    expect(row).toMatchObject({ day: today });
    expect(row.workspace_id).toMatch(/^ws_/);
    expect(row.user_id).toMatch(/^usr_/);
    expect(row.cost_usd).toBeGreaterThanOrEqual(0.5);
    expect(row.machine_seconds).toBeCloseTo(row.cost_usd, 6);
    expect(all.body.total_usd).toBeCloseTo(row.cost_usd, 6);

    const byRuntime = await server.api("GET", `/admin/usage?group_by=runtime&from=${today}&to=${today}`);
    expect(byRuntime.body.rows).toEqual([{ runtime: "local", machine_seconds: row.machine_seconds, cost_usd: row.cost_usd }]);
    expect((await server.api("GET", "/admin/usage?from=2020-01-01&to=2020-01-02")).body).toMatchObject({ rows: [], total_usd: 0 });
    expect((await server.api("GET", "/admin/usage?group_by=colour")).body.error.code).toBe("invalid_request");
    expect((await server.api("GET", "/admin/usage?from=2020-01-01&to=2026-01-01")).body.error.code).toBe("invalid_request");

    const created = await server.api("POST", "/workspaces", { name: "team-b" });
    const member = created.body.token as string;
    const own = await server.api("GET", "/admin/usage", undefined, { token: member });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ rows: [], total_usd: 0 });
    const other = await server.api("GET", `/admin/usage?workspace_id=${row.workspace_id}`, undefined, { token: member });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe("forbidden");
    const one = await server.api("GET", `/admin/usage?workspace_id=${created.body.workspace.id}`);
    expect(one.body.rows).toEqual([]);
  });

  test("ciab usage prints the report as a table or as JSON", async () => {
    const run = async (args: string[]) => {
      const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args], {
        env: { ...process.env, CIAB_URL: server.url, CIAB_TOKEN: server.token },
        timeout: 30_000,
      });
      return stdout;
    };
    const report = JSON.parse(await run(["usage", "--json", "--group-by", "runtime"])) as { rows: { runtime: string; cost_usd: number }[] };
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0]).toMatchObject({ runtime: "local" });
    const table = await run(["usage", "--group-by", "runtime,day"]);
    expect(table).toMatch(/^RUNTIME +DAY +HOURS +COST\nlocal +\d{4}-\d{2}-\d{2} +\d+\.\d\d +\$\d+\.\d{4}\ntotal \$/);
    await expect(run(["usage", "--group-by", "planet"])).rejects.toMatchObject({ stderr: expect.stringContaining("--group-by") });
  });
});
