import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * A revoked token (or a removed user) keeps nothing it opened before: downloads in flight, tool calls over
 * MCP, exec runs and exec streams end within a bounded time with the connection closed, and the token's
 * next request is refused. A revoke must not wait for the long thing to finish on its own.
 */
describe("a revoke cuts what the token has open", () => {
  let server: TestServer;
  let owner: string;
  let workspaceID: string;
  let sandboxID: string;
  let sessionID: string;
  const bigFileBytes = 64 * 1024 * 1024;

  const api = (method: string, route: string, body?: unknown, token = owner) => server.api(method, route, body, { token });
  async function newToken(): Promise<{ id: string; token: string }> {
    const created = await api("POST", "/tokens", { name: `leaver-${Date.now()}` });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  }
  async function revoke(id: string): Promise<void> {
    expect((await api("DELETE", `/tokens/${id}`)).status).toBe(200);
  }

  /** Reads a body to its end or its error, within `limitMs`: how it ended, and how many bytes came. */
  async function drain(body: ReadableStream<Uint8Array>, limitMs: number): Promise<{ ended: "done" | "error" | "timeout"; bytes: number }> {
    const reader = body.getReader();
    let bytes = 0;
    const deadline = Date.now() + limitMs;
    try {
      while (Date.now() < deadline) {
        const left = deadline - Date.now();
        const next = await Promise.race([reader.read(), new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), left))]);
        if (next === "timeout") break;
        if (next.done) return { ended: "done", bytes };
        bytes += next.value.length;
      }
      return { ended: "timeout", bytes };
    } catch {
      return { ended: "error", bytes };
    } finally {
      void reader.cancel().catch(() => undefined);
    }
  }

  /** Waits up to 5 s for no process of the sandbox to run `pattern` (a class like `[1]` keeps pgrep's own shell out). */
  async function expectGone(pattern: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    let listed = "";
    while (Date.now() < deadline) {
      const found = await api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", `pgrep -f '${pattern}' || true`] });
      listed = found.body.stdout;
      if (listed === "") return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(listed).toBe("");
  }

  /** A download started and then left unread, so that it stays in flight. */
  async function startDownload(url: string, token?: string): Promise<ReadableStream<Uint8Array>> {
    const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect(response.status, await (response.status === 200 ? "" : response.clone().text())).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    reader.releaseLock();
    return response.body!;
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } });
    const team = await server.api("POST", "/workspaces", { name: "team-cut", role: "admin" });
    owner = team.body.token;
    workspaceID = team.body.workspace.id;
    sandboxID = (await api("POST", "/sandboxes", { runtime: "local" })).body.id;
    const written = await api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", `head -c ${bigFileBytes} /dev/urandom > big.bin`] });
    expect(written.body.exit_code, JSON.stringify(written.body)).toBe(0);
    const session = await api("POST", "/sessions", { provider: "shell", sandbox_id: sandboxID, prompt: "sleep 600" });
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    sessionID = session.body.id;
  });

  afterAll(async () => {
    await server?.close();
  });

  test("a sandbox file download in flight", async () => {
    const leaver = await newToken();
    const body = await startDownload(`${server.url}/api/v1/sandboxes/${sandboxID}/files/download?path=big.bin`, leaver.token);
    await revoke(leaver.id);
    const outcome = await drain(body, 5_000);
    expect(outcome.ended).toBe("error");
    expect(outcome.bytes).toBeLessThan(bigFileBytes);
    expect((await api("GET", `/sandboxes/${sandboxID}`, undefined, leaver.token)).status).toBe(401);
  });

  test("an artifact download in flight, through a URL the token was given; the URL is refused afterwards", async () => {
    const leaver = await newToken();
    const published = await api("POST", "/artifacts", { sandbox_id: sandboxID, path: "big.bin" }, leaver.token);
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    const url: string = published.body.download_url;
    expect(url).toContain(`token=${leaver.id}`);
    const body = await startDownload(url);
    await revoke(leaver.id);
    const outcome = await drain(body, 5_000);
    expect(outcome.ended).toBe("error");
    expect(outcome.bytes).toBeLessThan(bigFileBytes);
    const again = await fetch(url);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    // The owner's own URL for the same artifact still works.
    const fresh = await api("GET", `/artifacts/${published.body.id}`);
    const owners = await fetch(fresh.body.download_url);
    expect(owners.status).toBe(200);
    await owners.body!.cancel();
  });

  test("an MCP tool call running a long shell", async () => {
    const leaver = await newToken();
    const started = Date.now();
    const call = fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${leaver.token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "shell", arguments: { session_id: sessionID, cmd: "sleep 31; echo finished" } } }),
    }).then(
      async (response) => ({ status: response.status, text: await response.text().catch(() => "(cut)") }),
      () => ({ status: 0, text: "(cut)" }),
    );
    await new Promise((resolve) => setTimeout(resolve, 700));
    await revoke(leaver.id);
    const answer = await call;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(answer.text).not.toContain("finished");
    expect(answer.status).toBe(0);
    await expectGone("sleep 3[1]");
    const refused = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${leaver.token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(refused.status).toBe(401);
  });

  test("an exec waiting on a long command, and an exec stream", async () => {
    const leaver = await newToken();
    const headers = { authorization: `Bearer ${leaver.token}`, "content-type": "application/json" };
    const waiting = fetch(`${server.url}/api/v1/sandboxes/${sandboxID}/exec`, {
      method: "POST",
      headers,
      body: JSON.stringify({ command: ["sh", "-c", "sleep 32; echo finished"] }),
    }).then(
      (response) => response.status,
      () => 0,
    );
    const streaming = await fetch(`${server.url}/api/v1/sandboxes/${sandboxID}/exec/stream`, {
      method: "POST",
      headers,
      body: JSON.stringify({ command: ["sh", "-c", "echo begun; sleep 33; echo finished"] }),
    });
    expect(streaming.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    await revoke(leaver.id);
    expect(await waiting).toBe(0);
    const outcome = await drain(streaming.body!, 5_000);
    expect(outcome.ended).not.toBe("timeout");
    expect(Date.now() - started).toBeLessThan(5_000);
    await expectGone("sleep 3[23]");
    expect((await api("GET", `/sandboxes/${sandboxID}`, undefined, leaver.token)).status).toBe(401);
  });

  test("removing a user cuts the downloads of every token they hold", async () => {
    const added = await api("POST", `/workspaces/${workspaceID}/users`, { name: "leaving-user", role: "member" });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const body = await startDownload(`${server.url}/api/v1/sandboxes/${sandboxID}/files/download?path=big.bin`, added.body.token);
    expect((await api("DELETE", `/workspaces/${workspaceID}/users/${added.body.user.id}`)).status).toBe(200);
    const outcome = await drain(body, 5_000);
    expect(outcome.ended).toBe("error");
    expect((await api("GET", "/sandboxes", undefined, added.body.token)).status).toBe(401);
  });

  test("demoting an admin cuts what they opened as an admin; their token then works as a member's", async () => {
    const added = await api("POST", `/workspaces/${workspaceID}/users`, { name: "demoted-admin", role: "admin" });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const body = await startDownload(`${server.url}/api/v1/sandboxes/${sandboxID}/files/download?path=big.bin`, added.body.token);
    const demoted = await api("PATCH", `/workspaces/${workspaceID}/users/${added.body.user.id}`, { role: "member" });
    expect(demoted.status, JSON.stringify(demoted.body)).toBe(200);
    const outcome = await drain(body, 5_000);
    expect(outcome.ended).toBe("error");
    const whoami = await api("GET", "/whoami", undefined, added.body.token);
    expect(whoami.body).toMatchObject({ role: "member" });
  });
});
