import { readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** The sandbox tools by name through the REST API, on a real bubblewrap sandbox, with the audit trail. */
describe("tools by name", () => {
  let server: TestServer;
  let sessionID: string;
  let sandboxID: string;
  let otherToken: string;
  let memberToken: string;
  let closedEarly = false;
  const auditFile = path.join(process.env.TMPDIR ?? "/tmp", `ciab-audit-${process.pid}-${Date.now()}.jsonl`);

  let adminToken: string;
  /** Calls as the team's workspace admin unless another token is given. */
  const api = (method: string, route: string, body?: unknown, token?: string) => server.api(method, route, body, { token: token ?? adminToken });
  const tool = (name: string, args: unknown, token?: string, query = "") => api("POST", `/sessions/${sessionID}/tools/${name}${query}`, args, token);

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local", CIAB_SERVER_BODY_LIMIT_BYTES: String(1024 * 1024), CIAB_AUDIT_FILE: auditFile } });
    const team = await server.api("POST", "/workspaces", { name: "team", role: "admin" });
    adminToken = team.body.token;
    otherToken = server.token;
    const member = await api("POST", `/workspaces/${team.body.workspace.id}/users`, { name: "mia", role: "member" });
    expect(member.status, JSON.stringify(member.body)).toBe(201);
    memberToken = member.body.token;
    const sandbox = await api("POST", "/sandboxes", { runtime: "local" });
    expect(sandbox.status, JSON.stringify(sandbox.body)).toBe(201);
    sandboxID = sandbox.body.id;
    const session = await api("POST", "/sessions", { provider: "shell", sandbox_id: sandboxID, prompt: "sleep 600" });
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    sessionID = session.body.id;
  });
  afterAll(async () => {
    rmSync(auditFile, { force: true });
    // The last test closed the control plane: the sandbox goes with a fresh one on the same data dir.
    if (closedEarly) server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" }, dataDirectory: server.dataDirectory });
    if (sandboxID) await api("DELETE", `/sandboxes/${sandboxID}`);
    await server.close();
    rmSync(server.dataDirectory, { recursive: true, force: true });
  });

  test("write_file, read_file (text and base64), list_files", async () => {
    const written = await tool("write_file", { path: "notes/a.txt", content: "hello tools\n", mode: "600" });
    expect(written.status, JSON.stringify(written.body)).toBe(200);
    expect(written.body).toMatchObject({ path: "/workspace/notes/a.txt", size: 12, mode: 0o600 });
    const read = await tool("read_file", { path: "/workspace/notes/a.txt" });
    expect(read.body).toEqual({ path: "/workspace/notes/a.txt", size: 12, encoding: "utf8", content: "hello tools\n" });

    const binary = Buffer.from([0, 1, 2, 255, 254]);
    await tool("write_file", { path: "notes/b.bin", content: binary.toString("base64"), encoding: "base64" });
    const readBinary = await tool("read_file", { path: "notes/b.bin" });
    expect(readBinary.body).toMatchObject({ encoding: "base64", content: binary.toString("base64"), size: 5 });

    const listed = await tool("list_files", { path: "notes" });
    expect(listed.status).toBe(200);
    expect(listed.body.entries.map((entry: { name: string }) => entry.name).sort()).toEqual(["a.txt", "b.bin"]);
  });

  test("shell runs bash -lc with cwd and answers stdout, stderr and exit_code; timeout_secs kills it", async () => {
    const ran = await tool("shell", { cmd: "echo out; echo err >&2; pwd; exit 3", cwd: "/workspace/notes" });
    expect(ran.status).toBe(200);
    expect(ran.body).toMatchObject({ stdout: "out\n/workspace/notes\n", stderr: "err\n", exit_code: 3, timed_out: false });
    const slow = await tool("shell", { cmd: "sleep 30", timeout_secs: 1 });
    expect(slow.body).toMatchObject({ exit_code: null, timed_out: true });
  });

  test("shell_stream answers a stream id, or streams the output itself with Accept: text/event-stream", async () => {
    const started = await tool("shell_stream", { cmd: "echo one; echo two" });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ sandbox_id: sandboxID });
    expect(started.body.tail_url).toContain(`/api/v1/sandboxes/${sandboxID}/shell/stream/${started.body.stream_id}`);

    const response = await fetch(`${server.url}/api/v1/sessions/${sessionID}/tools/shell_stream`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ cmd: "echo via-sse" }),
    });
    const text = await response.text();
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const outputs = [...text.matchAll(/event: exec\.output\ndata: (.*)\n/g)].map((match) => JSON.parse(match[1]!));
    expect(Buffer.concat(outputs.map((frame) => Buffer.from(frame.data, "base64"))).toString()).toBe("via-sse\n");
    expect(text).toContain("event: exec.exit");
  });

  test("publish_artifact publishes from the session's sandbox", async () => {
    const published = await tool("publish_artifact", { path: "notes/a.txt", description: "from a tool" });
    expect(published.status, JSON.stringify(published.body)).toBe(200);
    expect(published.body).toMatchObject({ path: "/workspace/notes/a.txt", size: 12, session_id: sessionID, description: "from a tool" });
    expect(published.body.id).toMatch(/^art_/);
    expect(published.body.download_url).toContain("/api/v1/artifacts/");
  });

  test("paths are confined: .. and symlinks out are refused; bad input is typed", async () => {
    await tool("shell", { cmd: "ln -sfn /etc /workspace/etc-link" });
    const dotdot = await tool("read_file", { path: "/workspace/../etc/passwd" });
    expect([dotdot.status, dotdot.body.error.code]).toEqual([403, "path_outside_sandbox"]);
    const viaLink = await tool("read_file", { path: "etc-link/passwd" });
    expect([viaLink.status, viaLink.body.error.code]).toEqual([403, "path_outside_sandbox"]);
    const writeViaLink = await tool("write_file", { path: "etc-link/evil", content: "x" });
    expect([writeViaLink.status, writeViaLink.body.error.code]).toEqual([403, "path_outside_sandbox"]);
    const listOut = await tool("list_files", { path: "../.." });
    expect(listOut.body.error.code).toBe("path_outside_sandbox");

    const unknown = await tool("rm_rf", {});
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "not_found"]);
    const badArgs = await tool("shell", { cmd: "", extra: 1 });
    expect([badArgs.status, badArgs.body.error.code]).toEqual([400, "invalid_request"]);
    const otherWorkspace = await tool("read_file", { path: "notes/a.txt" }, otherToken);
    expect([otherWorkspace.status, otherWorkspace.body.error.code]).toEqual([404, "not_found"]);
    const noToken = await fetch(`${server.url}/api/v1/sessions/${sessionID}/tools/list_files`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(noToken.status).toBe(401);
    // The server stops reading a refused body and closes: a connection of its own.
    const huge = await server.api("POST", `/sessions/${sessionID}/tools/write_file`, { path: "big.txt", content: "x".repeat(2 * 1024 * 1024) }, { token: adminToken, headers: { connection: "close" } });
    expect([huge.status, huge.body.error.code]).toEqual([413, "payload_too_large"]);
  });

  test("every call is in the audit trail once, routes and tools alike, with a digest and no contents", async () => {
    const exec = await api("POST", `/sandboxes/${sandboxID}/exec`, { command: "echo audited", env: { API_KEY: "sk-secret-value" } });
    expect(exec.status).toBe(200);
    await api("GET", `/sandboxes/${sandboxID}/files/read?path=notes/a.txt`);
    await tool("read_file", { path: "notes/a.txt" }, memberToken);

    const execEntries = (await api("GET", `/audit?sandbox_id=${sandboxID}&tool=exec.run`)).body.entries;
    expect(execEntries).toHaveLength(1);
    expect(execEntries[0]).toMatchObject({ tool: "exec.run", sandbox_id: sandboxID, result: "ok", error_code: null });
    expect(execEntries[0].args_digest).toMatch(/^[0-9a-f]{64}$/);

    const all = await api("GET", `/audit?session_id=${sessionID}&limit=1000`);
    const tools = all.body.entries.map((entry: { tool: string }) => entry.tool);
    for (const name of ["write_file", "read_file", "list_files", "shell", "shell_stream", "publish_artifact"]) expect(tools).toContain(name);
    // A tool call is recorded by the tool service only, not again by the services under it.
    expect(tools.filter((name: string) => name === "artifacts.publish")).toHaveLength(0);
    const refused = all.body.entries.find((entry: { error_code: string | null }) => entry.error_code === "path_outside_sandbox");
    expect(refused).toMatchObject({ result: "error", session_id: sessionID });
    expect(JSON.stringify(all.body)).not.toContain("hello tools");
    expect(JSON.stringify((await api("GET", "/audit?limit=1000")).body)).not.toContain("sk-secret-value");

    const files = (await api("GET", `/audit?tool=files.read`)).body.entries;
    expect(files).toHaveLength(1);
    const snapshot = await api("POST", `/sessions/${sessionID}/snapshot`, { label: "audited" });
    expect(snapshot.status).toBe(201);
    const snapshots = (await api("GET", "/audit?tool=snapshots.create")).body.entries;
    expect(snapshots).toMatchObject([{ session_id: sessionID, result: "ok" }]);

    const page = await api("GET", `/audit?session_id=${sessionID}&limit=2`);
    expect(page.body.entries).toHaveLength(2);
    const next = await api("GET", `/audit?session_id=${sessionID}&limit=2&cursor=${page.body.next}`);
    expect(next.body.entries[0].id > page.body.entries[1].id).toBe(true);
    const future = await api("GET", `/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body.entries).toEqual([]);

    const mine = await api("GET", "/audit?limit=1000", undefined, memberToken);
    expect(mine.status).toBe(200);
    expect(mine.body.entries.length).toBeGreaterThan(0);
    expect(new Set(mine.body.entries.map((entry: { actor: string }) => entry.actor)).size).toBe(1);
    expect(mine.body.entries[0].tool).toBe("read_file");
    const others = await api("GET", `/audit?actor=${execEntries[0].actor}`, undefined, memberToken);
    expect([others.status, others.body.error.code], JSON.stringify(others.body)).toEqual([403, "forbidden"]);
    const otherWorkspace = await api("GET", "/audit?limit=1000", undefined, otherToken);
    expect(otherWorkspace.body.entries).toEqual([]);
    const badSince = await api("GET", "/audit?since=yesterday");
    expect(badSince.status).toBe(400);

    // [audit] file: the same entries as JSON lines, private to the server's user.
    await server.server.close();
    closedEarly = true;
    const lines = readFileSync(auditFile, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((line: { id: string }) => line.id)).toEqual(expect.arrayContaining(all.body.entries.map((entry: { id: string }) => entry.id)));
    expect(lines[0]).toHaveProperty("workspace_id");
    expect(statSync(auditFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(auditFile, "utf8")).not.toContain("hello tools");
  });
});
