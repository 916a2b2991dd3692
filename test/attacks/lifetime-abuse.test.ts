import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** A tenant tries to keep sandboxes beyond the server's limits, or to change another workspace's. */
let server: TestServer;
let tenant: string;

beforeAll(async () => {
  server = await startTestServer({
    env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local", CIAB_SANDBOXES_MAX_TIMEOUT_SECONDS: "3600" },
  });
  tenant = (await server.api("POST", "/workspaces", { name: "team-lifetimes", role: "admin" })).body.token;
});

afterAll(async () => {
  await server?.close();
});

test("absurd timeouts are refused at create and at set-timeout, and another workspace's sandbox is not found", async () => {
  for (const timeout_secs of [-1, 0, 1.5, 1e300, "60", null, 3601, 366 * 24 * 3600 + 1]) {
    expect((await server.api("POST", "/sandboxes", { runtime: "local", timeout_secs }, { token: tenant })).status).toBe(400);
  }
  const own = await server.api("POST", "/sandboxes", { runtime: "local", timeout_secs: 60 }, { token: tenant });
  expect(own.status).toBe(201);
  for (const timeout_secs of [-1, 0, 2.5, 1e300, "60", null, 3601]) {
    expect((await server.api("POST", `/sandboxes/${own.body.id}/timeout`, { timeout_secs }, { token: tenant })).status).toBe(400);
  }
  expect((await server.api("POST", `/sandboxes/${own.body.id}/timeout`, { timeout_secs: 60, on_timeout: "delete" }, { token: tenant })).status).toBe(400);

  const other = await server.api("POST", "/sandboxes", { runtime: "local", timeout_secs: 60 });
  const extended = await server.api("POST", `/sandboxes/${other.body.id}/timeout`, { timeout_secs: 3600 }, { token: tenant });
  expect(extended.status).toBe(404);
  expect((await server.api("GET", `/sandboxes/${other.body.id}`)).body.timeout_secs).toBe(60);
  await server.api("DELETE", `/sandboxes/${other.body.id}`);
  await server.api("DELETE", `/sandboxes/${own.body.id}`, undefined, { token: tenant });
});

test("a token cannot be minted for another user, nor carry fields the schema does not name", async () => {
  const me = (await server.api("GET", "/whoami")).body;
  const forged = await server.api("POST", "/tokens", { name: "theirs", user_id: me.user_id }, { token: tenant });
  expect(forged.status).toBe(400);
  const wide = await server.api("POST", "/tokens", { name: "wide", installation_admin: true }, { token: tenant });
  expect(wide.status).toBe(400);
});
