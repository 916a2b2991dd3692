import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const env = { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local", CIAB_POLICY_APPROVAL_TIMEOUT_SECONDS: "4" };

/** Policy approvals on a real bubblewrap sandbox: held writes outside /workspace, decisions, waits, restarts. */
describe("approvals", () => {
  let server: TestServer;
  let dataDirectory: string;
  let adminToken: string;
  let memberToken: string;
  let sessionID: string;
  let sandboxID: string;

  const api = (method: string, route: string, body?: unknown, token?: string) => server.api(method, route, body, { token: token ?? adminToken });
  const tool = (name: string, args: unknown, token: string, query = "") => api("POST", `/sessions/${sessionID}/tools/${name}${query}`, args, token);
  const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    server = await startTestServer({ env });
    dataDirectory = server.dataDirectory;
    const team = await server.api("POST", "/workspaces", { name: "team", role: "admin" });
    adminToken = team.body.token;
    memberToken = (await api("POST", `/workspaces/${team.body.workspace.id}/users`, { name: "mia", role: "member" })).body.token;
    const sandbox = await api("POST", "/sandboxes", { runtime: "local" }, memberToken);
    sandboxID = sandbox.body.id;
    sessionID = (await api("POST", "/sessions", { provider: "shell", sandbox_id: sandboxID, prompt: "sleep 600" }, memberToken)).body.id;
  });
  afterAll(async () => {
    if (sandboxID) await api("DELETE", `/sandboxes/${sandboxID}`);
    await server?.close();
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  test("a write outside /workspace waits for an admin; approved, it runs once as the member who asked", async () => {
    const held = await tool("write_file", { path: "/workspace/../tmp/approved.txt", content: "approved content", mode: "640" }, memberToken);
    expect(held.status, JSON.stringify(held.body)).toBe(202);
    expect(held.body.approval).toMatchObject({ state: "pending" });
    const id = held.body.approval.id as string;
    expect(id).toMatch(/^apr_/);

    const listed = await api("GET", "/approvals?state=pending");
    const shown = listed.body.approvals.find((approval: { id: string }) => approval.id === id);
    expect(shown).toMatchObject({ tool: "write_file", session_id: sessionID, sandbox_id: sandboxID, summary: { path: "/tmp/approved.txt", mode: "0640", bytes: 16 } });
    expect(JSON.stringify(listed.body)).not.toContain("approved content");
    const mine = await api("GET", "/approvals", undefined, memberToken);
    expect(mine.body.approvals.map((approval: { id: string }) => approval.id)).toContain(id);

    const byMember = await api("POST", `/approvals/${id}/approve`, undefined, memberToken);
    expect([byMember.status, byMember.body.error.code]).toEqual([403, "forbidden"]);
    const otherWorkspace = await api("POST", `/approvals/${id}/approve`, undefined, server.token);
    expect([otherWorkspace.status, otherWorkspace.body.error.code]).toEqual([404, "not_found"]);
    expect((await api("GET", `/approvals/${id}`, undefined, server.token)).status).toBe(404);
    expect((await api("GET", "/approvals/apr_nope")).status).toBe(400);

    const approved = await api("POST", `/approvals/${id}/approve`);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ state: "approved", outcome: { status: "succeeded", result: { path: "/tmp/approved.txt", size: 16 } } });
    const again = await api("POST", `/approvals/${id}/approve`);
    expect([again.status, again.body.error.code]).toEqual([409, "conflict"]);
    const denyAfter = await api("POST", `/approvals/${id}/deny`);
    expect(denyAfter.status).toBe(409);

    const check = await tool("shell", { cmd: "cat /tmp/approved.txt; stat -c %a /tmp/approved.txt" }, memberToken);
    expect(check.body.stdout).toBe("approved content640\n");
    const audit = (await api("GET", `/audit?session_id=${sessionID}&limit=1000`)).body.entries.filter((entry: { approval_id: string | null }) => entry.approval_id === id);
    expect(audit.map((entry: { tool: string; result: string }) => `${entry.tool}:${entry.result}`)).toEqual(["write_file:approval_pending", "approval.approve:ok", "write_file:ok"]);
  });

  test("a waiting caller gets the result once approved, approval_denied once denied", async () => {
    const waiting = tool("write_file", { path: "/tmp/waited.txt", content: "w" }, memberToken, "?wait=true");
    const pendingID = await firstPending();
    await api("POST", `/approvals/${pendingID}/approve`);
    const done = await waiting;
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ path: "/tmp/waited.txt", size: 1 });

    const denied = tool("write_file", { path: "/tmp/denied.txt", content: "d" }, memberToken, "?wait_secs=10");
    const deniedID = await firstPending();
    expect((await api("POST", `/approvals/${deniedID}/deny`)).body.state).toBe("denied");
    const refused = await denied;
    expect([refused.status, refused.body.error.code]).toEqual([403, "approval_denied"]);
    const exists = await tool("shell", { cmd: "test -e /tmp/denied.txt && echo yes || echo no" }, memberToken);
    expect(exists.body.stdout).toBe("no\n");
  });

  test("a lead's note reaches a denied call's caller and is kept on the approval, never in the audit trail", async () => {
    const note = "no writes to /tmp; use /workspace/out";
    const denied = tool("write_file", { path: "/tmp/noted.txt", content: "n" }, memberToken, "?wait_secs=10");
    const deniedID = await firstPending();
    const decision = await api("POST", `/approvals/${deniedID}/deny`, { note });
    expect([decision.status, decision.body.decision_note]).toEqual([200, note]);
    const refused = await denied;
    expect([refused.status, refused.body.error.code]).toEqual([403, "approval_denied"]);
    expect(refused.body.error.message).toMatch(new RegExp(`${note}$`));
    expect((await api("GET", `/approvals/${deniedID}`)).body).toMatchObject({ state: "denied", decision_note: note });

    const held = await tool("write_file", { path: "/tmp/noted-ok.txt", content: "ok" }, memberToken);
    const approved = await api("POST", `/approvals/${held.body.approval.id}/approve`, { note: "fine once" });
    expect(approved.body).toMatchObject({ state: "approved", decision_note: "fine once", outcome: { status: "succeeded" } });
    const plain = await tool("write_file", { path: "/tmp/noted-plain.txt", content: "p" }, memberToken);
    expect((await api("POST", `/approvals/${plain.body.approval.id}/deny`)).body.decision_note).toBeNull();

    const tooLong = await tool("write_file", { path: "/tmp/noted-long.txt", content: "l" }, memberToken);
    const refusedNote = await api("POST", `/approvals/${tooLong.body.approval.id}/deny`, { note: "x".repeat(1025) });
    expect([refusedNote.status, refusedNote.body.error.code]).toEqual([400, "invalid_request"]);
    expect((await api("GET", `/approvals/${tooLong.body.approval.id}`)).body.state).toBe("pending");
    await api("POST", `/approvals/${tooLong.body.approval.id}/deny`, { note: "x".repeat(1024) });

    const audit = await api("GET", `/audit?session_id=${sessionID}&limit=1000`);
    expect(JSON.stringify(audit.body)).not.toContain(note);
    expect(JSON.stringify(audit.body)).not.toContain("fine once");
  });

  test("nobody deciding ends the call with approval_timeout; it cannot be approved after", async () => {
    const started = Date.now();
    const timedOut = await tool("write_file", { path: "/tmp/late.txt", content: "l" }, memberToken, "?wait_secs=20");
    expect([timedOut.status, timedOut.body.error.code]).toEqual([408, "approval_timeout"]);
    expect(Date.now() - started).toBeLessThan(10_000);
    const id = timedOut.body.error.context.approval_id;
    expect((await api("GET", `/approvals/${id}`)).body.state).toBe("expired");
    const late = await api("POST", `/approvals/${id}/approve`);
    expect([late.status, late.body.error.code]).toEqual([408, "approval_timeout"]);
  });

  test("a held call survives a restart of the control plane and runs when approved after it", async () => {
    const held = await tool("write_file", { path: "/tmp/after-restart.txt", content: "kept" }, memberToken);
    expect(held.status).toBe(202);
    await server.server.close();
    server = await startTestServer({ env, dataDirectory });
    const listed = await api("GET", "/approvals?state=pending");
    expect(listed.body.approvals.map((approval: { id: string }) => approval.id)).toContain(held.body.approval.id);
    const approved = await api("POST", `/approvals/${held.body.approval.id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe("approved");
    expect(approved.body.outcome).not.toBeNull();
  });

  async function firstPending(): Promise<string> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const pending = (await api("GET", "/approvals?state=pending")).body.approvals;
      if (pending.length > 0) return pending[0].id;
      await later(100);
    }
    throw new Error("no pending approval appeared");
  }
});
