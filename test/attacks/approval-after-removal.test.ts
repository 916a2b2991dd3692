import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * A held tool call is something its user has open: once the user is removed, an admin's approval must not run
 * it as them (it would act, and publish, in the name of someone no longer in the workspace). The admin can
 * still deny it, and a present member's held call still runs.
 */
describe("a removed user's held tool call", () => {
  let server: TestServer;
  let admin: string;
  let workspaceID: string;
  let sessionID: string;

  const api = (method: string, route: string, body?: unknown, token = admin) => server.api(method, route, body, { token });

  async function member(name: string): Promise<{ id: string; token: string }> {
    const created = await api("POST", `/workspaces/${workspaceID}/users`, { name, role: "member" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { id: created.body.user.id, token: created.body.token };
  }

  async function hold(token: string, file: string): Promise<string> {
    const held = await api("POST", `/sessions/${sessionID}/tools/write_file`, { path: `/workspace/../tmp/${file}`, content: "held" }, token);
    expect(held.status, JSON.stringify(held.body)).toBe(202);
    return held.body.approval.id;
  }

  async function exists(file: string): Promise<boolean> {
    const listed = await api("POST", `/sessions/${sessionID}/tools/shell`, { cmd: `test -e /tmp/${file} && echo yes || echo no` });
    return listed.body.stdout === "yes\n";
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local", CIAB_POLICY_APPROVAL_TIMEOUT_SECONDS: "60" } });
    const team = await server.api("POST", "/workspaces", { name: "team-held", role: "admin" });
    admin = team.body.token;
    workspaceID = team.body.workspace.id;
    const sandbox = await api("POST", "/sandboxes", { runtime: "local" });
    sessionID = (await api("POST", "/sessions", { provider: "shell", sandbox_id: sandbox.body.id, prompt: "sleep 600" })).body.id;
  });

  afterAll(async () => {
    await server?.close();
  });

  test("approved after the user's removal, it does not run; denied, it is settled", async () => {
    const leaver = await member("leaver");
    const first = await hold(leaver.token, "leaver-1.txt");
    const second = await hold(leaver.token, "leaver-2.txt");
    expect((await api("DELETE", `/workspaces/${workspaceID}/users/${leaver.id}`)).status).toBe(200);
    const approved = await api("POST", `/approvals/${first}/approve`);
    expect(approved.status, JSON.stringify(approved.body)).toBe(409);
    expect(approved.body.error.code).toBe("conflict");
    expect(await exists("leaver-1.txt")).toBe(false);
    expect((await api("POST", `/approvals/${second}/deny`)).status).toBe(200);
    expect(await exists("leaver-2.txt")).toBe(false);
  });

  test("a present member's held call still runs when approved", async () => {
    const stayer = await member("stayer");
    const id = await hold(stayer.token, "stayer.txt");
    const approved = await api("POST", `/approvals/${id}/approve`);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.outcome.status).toBe("succeeded");
    expect(await exists("stayer.txt")).toBe(true);
  });
});
