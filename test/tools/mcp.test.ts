import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** The sandbox tools over MCP, driven by the SDK's own client against a real server and sandbox. */
describe("MCP at /mcp", () => {
  let server: TestServer;
  let sessionID: string;
  let sandboxID: string;
  let teamToken: string;
  const clients: Client[] = [];

  async function connect(token: string): Promise<Client> {
    const client = new Client({ name: "ciab-test", version: "0.0.1" });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  const textOf = (result: Awaited<ReturnType<Client["callTool"]>>) => JSON.parse((result.content as { type: string; text: string }[])[0]!.text);

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } });
    const sandbox = await server.api("POST", "/sandboxes", { runtime: "local" });
    sandboxID = sandbox.body.id;
    sessionID = (await server.api("POST", "/sessions", { provider: "shell", sandbox_id: sandboxID, prompt: "sleep 600" })).body.id;
    teamToken = (await server.api("POST", "/workspaces", { name: "elsewhere", role: "admin" })).body.token;
  });
  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await server?.close();
  });

  test("lists the six tools with session_id in each schema, and runs them in the session's sandbox", async () => {
    const client = await connect(server.token);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(["list_files", "publish_artifact", "read_file", "shell", "shell_stream", "write_file"]);
    for (const tool of tools) expect(tool.inputSchema.required).toContain("session_id");

    const written = await client.callTool({ name: "write_file", arguments: { session_id: sessionID, path: "mcp.txt", content: "over mcp" } });
    expect(written.isError, JSON.stringify(written)).toBeFalsy();
    const shell = await client.callTool({ name: "shell", arguments: { session_id: sessionID, cmd: "cat mcp.txt; echo; echo oops >&2; exit 2" } });
    expect(textOf(shell)).toMatchObject({ stdout: "over mcp\n", stderr: "oops\n", exit_code: 2 });
    const read = await client.callTool({ name: "read_file", arguments: { session_id: sessionID, path: "/workspace/mcp.txt" } });
    expect(textOf(read)).toMatchObject({ encoding: "utf8", content: "over mcp" });
    const stream = await client.callTool({ name: "shell_stream", arguments: { session_id: sessionID, cmd: "echo hi" } });
    expect(textOf(stream).tail_url).toContain(`/sandboxes/${sandboxID}/shell/stream/`);

    const audit = await server.api("GET", `/audit?session_id=${sessionID}&tool=shell`);
    expect(audit.body.entries).toHaveLength(1);
  });

  test("policy and confinement hold over MCP; errors are typed tool errors", async () => {
    const client = await connect(server.token);
    const held = await client.callTool({ name: "write_file", arguments: { session_id: sessionID, path: "/etc/motd", content: "x" } });
    expect(held.isError).toBeFalsy();
    expect(textOf(held).approval).toMatchObject({ state: "pending" });
    expect(textOf(held).approval.id).toMatch(/^apr_/);

    const outside = await client.callTool({ name: "read_file", arguments: { session_id: sessionID, path: "../../etc/passwd" } });
    expect(outside.isError).toBe(true);
    expect(textOf(outside).error.code).toBe("path_outside_sandbox");
    const badArgs = await client.callTool({ name: "shell", arguments: { session_id: sessionID } });
    expect(badArgs.isError).toBe(true);
  });

  test("the token's workspace scopes every call; no token or a bad one is refused", async () => {
    const other = await connect(teamToken);
    const foreign = await other.callTool({ name: "list_files", arguments: { session_id: sessionID } });
    expect(foreign.isError).toBe(true);
    expect(textOf(foreign).error.code).toBe("not_found");

    const anonymous = new Client({ name: "anon", version: "0" });
    await expect(anonymous.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)))).rejects.toThrow();
    const forged = await fetch(`${server.url}/mcp`, { method: "POST", headers: { authorization: "Bearer ciab_notarealtokenatallreally", "content-type": "application/json" }, body: "{}" });
    expect(forged.status).toBe(401);
    const huge = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json", connection: "close" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "write_file", arguments: { session_id: sessionID, path: "a", content: "x".repeat(80 * 1024 * 1024) } } }),
    });
    expect(huge.status).toBe(413);
  });
});
