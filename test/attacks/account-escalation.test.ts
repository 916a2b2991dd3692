import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * A workspace admin (or a member) tries to reach past their rights through tokens and users: the
 * installation admin's tokens, tokens above their own role, another workspace, the last admin.
 */
let server: TestServer;
let defaultWorkspaceID: string;

beforeAll(async () => {
  server = await startTestServer();
  defaultWorkspaceID = (await server.api("GET", "/whoami")).body.workspace_id;
});

afterAll(async () => {
  await server?.close();
});

async function addUser(workspaceID: string, name: string, role: "admin" | "member", token?: string): Promise<{ id: string; token: string }> {
  const added = await server.api("POST", `/workspaces/${workspaceID}/users`, { name, role }, token === undefined ? {} : { token });
  expect(added.status).toBe(201);
  return { id: added.body.user.id, token: added.body.token };
}

test("a workspace admin in the installation admin's workspace cannot revoke the installation admin's tokens", async () => {
  const spare = await server.api("POST", "/tokens", { name: "installation spare" });
  expect(spare.status).toBe(201);
  const mallory = await addUser(defaultWorkspaceID, "mallory-ws-admin", "admin");
  const listed = await server.api("GET", "/tokens", undefined, { token: mallory.token });
  expect(listed.status).toBe(200);
  // Listing it is harmless (no text, no hash); acting on it is what installation admins keep to themselves.
  for (const token of listed.body.tokens) expect(token).not.toHaveProperty("token");

  const revoked = await server.api("DELETE", `/tokens/${spare.body.id}`, undefined, { token: mallory.token });
  expect(revoked.status).toBe(403);
  expect(revoked.body.error.code).toBe("forbidden");
  expect((await server.api("GET", "/whoami", undefined, { token: spare.body.token })).status).toBe(200);
  await server.api("DELETE", `/workspaces/${defaultWorkspaceID}/users/${mallory.id}`);
});

test("two admins removing each other at once leave the workspace one admin", async () => {
  const created = await server.api("POST", "/workspaces", { name: "race-admins", user_name: "first", role: "admin" });
  const workspaceID = created.body.workspace.id;
  const first = { id: created.body.user.id, token: created.body.token };
  const second = await addUser(workspaceID, "second", "admin", first.token);
  // Both tokens cached, so that both requests reach the check together.
  for (const token of [first.token, second.token]) await server.api("GET", "/whoami", undefined, { token });

  const [a, b] = await Promise.all([
    server.api("DELETE", `/workspaces/${workspaceID}/users/${second.id}`, undefined, { token: first.token }),
    server.api("DELETE", `/workspaces/${workspaceID}/users/${first.id}`, undefined, { token: second.token }),
  ]);
  const admins = (await server.api("GET", `/workspaces/${workspaceID}/users`)).body.users.filter((user: { role: string }) => user.role === "admin");
  expect(admins).toHaveLength(1);
  // The loser is refused: its user is gone (401) or is the last admin (409).
  expect([a.status, b.status].filter((status) => status === 200)).toHaveLength(1);
});

test("two admins demoting each other at once leave the workspace one admin", async () => {
  const created = await server.api("POST", "/workspaces", { name: "race-demote", user_name: "first", role: "admin" });
  const workspaceID = created.body.workspace.id;
  const first = { id: created.body.user.id, token: created.body.token };
  const second = await addUser(workspaceID, "second", "admin", first.token);
  for (const token of [first.token, second.token]) await server.api("GET", "/whoami", undefined, { token });

  await Promise.all([
    server.api("PATCH", `/workspaces/${workspaceID}/users/${second.id}`, { role: "member" }, { token: first.token }),
    server.api("PATCH", `/workspaces/${workspaceID}/users/${first.id}`, { role: "member" }, { token: second.token }),
  ]);
  const admins = (await server.api("GET", `/workspaces/${workspaceID}/users`)).body.users.filter((user: { role: string }) => user.role === "admin");
  expect(admins).toHaveLength(1);
});

test("a member's or a narrowed token cannot mint an admin token, nor act on another workspace's users or tokens", async () => {
  const created = await server.api("POST", "/workspaces", { name: "escalate", user_name: "owner", role: "admin" });
  const workspaceID = created.body.workspace.id;
  const owner = created.body.token;
  const member = await addUser(workspaceID, "member", "member", owner);

  const asMember = await server.api("POST", "/tokens", { name: "up", role: "admin" }, { token: member.token });
  expect(asMember.status).toBe(403);
  const narrowed = await server.api("POST", "/tokens", { name: "ci", role: "member" }, { token: owner });
  expect(narrowed.status).toBe(201);
  const fromNarrowed = await server.api("POST", "/tokens", { name: "up", role: "admin" }, { token: narrowed.body.token });
  expect(fromNarrowed.status).toBe(403);
  const unspecified = await server.api("POST", "/tokens", { name: "same" }, { token: narrowed.body.token });
  expect(unspecified.body.role).toBe("member");
  expect((await server.api("POST", `/workspaces/${workspaceID}/users`, { name: "x", role: "admin" }, { token: narrowed.body.token })).status).toBe(403);
  expect((await server.api("POST", "/workspaces", { name: "mine" }, { token: owner })).status).toBe(403);

  // Another workspace: not found, whatever the role.
  expect((await server.api("GET", `/workspaces/${defaultWorkspaceID}/users`, undefined, { token: owner })).status).toBe(404);
  expect((await server.api("POST", `/workspaces/${defaultWorkspaceID}/users`, { name: "in" }, { token: owner })).status).toBe(404);
  const me = (await server.api("GET", "/whoami")).body;
  expect((await server.api("DELETE", `/workspaces/${defaultWorkspaceID}/users/${me.user_id}`, undefined, { token: owner })).status).toBe(404);
  expect((await server.api("DELETE", `/tokens/${me.token_id}`, undefined, { token: owner })).status).toBe(404);
  // A user id of the default workspace through this workspace's path is not found either.
  expect((await server.api("PATCH", `/workspaces/${workspaceID}/users/${me.user_id}`, { role: "member" }, { token: owner })).status).toBe(404);
  // Absurd expiries are refused, not turned into a 500.
  for (const expires of [-1, 0, 1e300, 1.5, "60"]) {
    expect((await server.api("POST", "/tokens", { name: "bad", expires_in_secs: expires }, { token: owner })).status).toBe(400);
  }
});
