import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

let server: TestServer;
let memberToken: string;
let workspaceAdminToken: string;
let memberWorkspaceID: string;
let adminWorkspaceID: string;

beforeAll(async () => {
  server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } });
  const member = await server.api("POST", "/workspaces", { name: "team-m", role: "member" });
  const admin = await server.api("POST", "/workspaces", { name: "team-a", role: "admin" });
  expect([member.status, admin.status]).toEqual([201, 201]);
  memberToken = member.body.token;
  workspaceAdminToken = admin.body.token;
  memberWorkspaceID = member.body.workspace.id;
  adminWorkspaceID = admin.body.workspace.id;
});

afterAll(async () => {
  await server?.close();
});

const refusals: Array<{ what: string; request: Record<string, unknown>; code: string }> = [
  { what: "host networking", request: { network: "host" }, code: "forbidden" },
  { what: "a runtime this server does not enable", request: { runtime: "docker" }, code: "invalid_request" },
  { what: "an image the runtime cannot boot", request: { image: "debian:bookworm" }, code: "capability_unsupported" },
];

test.each(refusals)("a member's session asking for $what is refused exactly as POST /sandboxes refuses it", async ({ request, code }) => {
  for (const token of [memberToken, workspaceAdminToken]) {
    const direct = await server.api("POST", "/sandboxes", request, { token });
    const viaSession = await server.api("POST", "/sessions", { provider: "shell", prompt: "true", ...request }, { token });
    expect(direct.body.error?.code).toBe(code);
    expect(viaSession.status).toBe(direct.status);
    expect(viaSession.body).toEqual(direct.body);
    const sessions = await server.api("GET", "/sessions", undefined, { token });
    const sandboxes = await server.api("GET", "/sandboxes?all=true", undefined, { token });
    expect(sessions.body.sessions).toEqual([]);
    expect(sandboxes.body.sandboxes).toEqual([]);
  }
});

test("the installation admin may ask for host networking", async () => {
  const direct = await server.api("POST", "/sandboxes?wait=false", { network: "host", runtime: "local" });
  expect(direct.status).toBe(202);
  await server.api("DELETE", `/sandboxes/${direct.body.id}`);
});

test("a workspace admin cannot create workspaces", async () => {
  const answer = await server.api("POST", "/workspaces", { name: "grab", role: "admin" }, { token: workspaceAdminToken });
  expect(answer.status).toBe(403);
  expect(answer.body.error.code).toBe("forbidden");
  const asMember = await server.api("POST", "/workspaces", { name: "grab" }, { token: memberToken });
  expect(asMember.status).toBe(403);
});

test("a workspace admin cannot touch another workspace's secrets, sandboxes or sessions", async () => {
  await server.api("PUT", "/secrets/ANTHROPIC_API_KEY", { value: "sk-first-workspace" });
  const own = await server.api("POST", "/sandboxes?wait=false", { runtime: "local" });
  expect(own.status).toBe(202);
  const token = workspaceAdminToken;
  const listed = await server.api("GET", "/secrets", undefined, { token });
  expect(listed.body.secrets).toEqual([]);
  expect((await server.api("DELETE", "/secrets/ANTHROPIC_API_KEY", undefined, { token })).status).toBe(404);
  expect((await server.api("GET", `/sandboxes/${own.body.id}`, undefined, { token })).status).toBe(404);
  expect((await server.api("DELETE", `/sandboxes/${own.body.id}`, undefined, { token })).status).toBe(404);
  const session = await server.api("POST", "/sessions", { provider: "shell", prompt: "true", sandbox_id: own.body.id }, { token });
  expect(session.status).toBe(404);
  expect((await server.api("GET", "/secrets")).body.secrets.map((secret: { name: string }) => secret.name)).toEqual(["ANTHROPIC_API_KEY"]);
  await server.api("DELETE", `/sandboxes/${own.body.id}`);
});

test("a workspace admin adds users to their own workspace only; members add none; installation admins anywhere", async () => {
  const added = await server.api("POST", `/workspaces/${adminWorkspaceID}/users`, { name: "dev", role: "member" }, { token: workspaceAdminToken });
  expect(added.status).toBe(201);
  expect(added.body.user).toMatchObject({ name: "dev", role: "member" });
  expect((await server.api("GET", "/sandboxes", undefined, { token: added.body.token })).status).toBe(200);
  const byMember = await server.api("POST", `/workspaces/${memberWorkspaceID}/users`, { name: "x", role: "admin" }, { token: memberToken });
  expect(byMember.status).toBe(403);
  const elsewhere = await server.api("POST", `/workspaces/${memberWorkspaceID}/users`, { name: "x", role: "admin" }, { token: workspaceAdminToken });
  const nowhere = await server.api("POST", "/workspaces/ws_does_not_exist/users", { name: "x" }, { token: workspaceAdminToken });
  expect([elsewhere.status, nowhere.status]).toEqual([404, 404]);
  expect(elsewhere.body.error.message.replace(memberWorkspaceID, "ID")).toBe(nowhere.body.error.message.replace("ws_does_not_exist", "ID"));
  const byInstallationAdmin = await server.api("POST", `/workspaces/${memberWorkspaceID}/users`, { name: "lead", role: "admin" });
  expect(byInstallationAdmin.status).toBe(201);
  // The new workspace admin is not an installation admin.
  expect((await server.api("POST", "/workspaces", { name: "z" }, { token: byInstallationAdmin.body.token })).status).toBe(403);
});
