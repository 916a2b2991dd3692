import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
let workspaceAdminToken: string;
let adminWorkspaceID: string;

beforeAll(async () => {
  server = await startTestServer({
    env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local", CIAB_BUDGET_LOCAL_USD_PER_HOUR: "3600" },
  });
  const admin = await server.api("POST", "/workspaces", { name: "team-usage", role: "admin" });
  workspaceAdminToken = admin.body.token;
  adminWorkspaceID = admin.body.workspace.id;
});

afterAll(async () => {
  await server?.close();
});

test("a workspace admin sees their own workspace's usage only, never the installation's", async () => {
  const other = await server.api("POST", "/sandboxes", { runtime: "local" });
  expect(other.status).toBe(201);
  await server.api("DELETE", `/sandboxes/${other.body.id}`);
  const installation = await server.api("GET", "/admin/usage?group_by=workspace");
  expect(installation.body.total_usd).toBeGreaterThan(0);

  const token = workspaceAdminToken;
  const everything = await server.api("GET", "/admin/usage?group_by=workspace", undefined, { token });
  expect(everything.status).toBe(200);
  expect(everything.body.total_usd).toBe(0);
  for (const row of everything.body.rows) expect(row.workspace_id).toBe(adminWorkspaceID);
  const named = await server.api("GET", `/admin/usage?workspace_id=${installation.body.rows[0].workspace_id}`, undefined, { token });
  expect(named.status).toBe(403);
  expect(named.body.error.code).toBe("forbidden");
});
