import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ApprovalDeniedError, Ciab, type SandboxHandle } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");

/** `sandbox.tools.call`, `ciab.approvals`, `ciab.audit` and `ciab approvals|audit` against a real server. */
describe("tools, approvals and audit from the SDK and the CLI", () => {
  let server: TestServer;
  let ciab: Ciab;
  let sandbox: SandboxHandle;
  let sessionID: string;

  // Asynchronous: the server runs in this process and must keep answering while the CLI waits.
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env = { ...process.env, CIAB_URL: server.url, CIAB_TOKEN: server.token, CIAB_DATA_DIR: server.dataDirectory };
      execFile(process.execPath, [cli, ...args], { env, encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  const json = async (args: string[]) => {
    const result = await run([...args, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_ENABLED: "local", CIAB_RUNTIME_BACKEND: "local" } });
    ciab = new Ciab({ url: server.url, token: server.token });
    sandbox = await ciab.sandboxes.create({ runtime: "local" });
    sessionID = (await ciab.sessions.create({ provider: "shell", sandbox_id: sandbox.id, prompt: "sleep 600" })).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  test("sandbox.tools.call finds the sandbox's live session; held calls are decided from the CLI", async () => {
    const ran = await sandbox.tools.call("shell", { cmd: "echo from-sdk" });
    expect(ran).toMatchObject({ status: "done", result: { stdout: "from-sdk\n", exit_code: 0 } });

    const held = await ciab.tools(sessionID).call("write_file", { path: "/tmp/cli.txt", content: "c" });
    expect(held.status).toBe("pending");
    const id = held.status === "pending" ? held.approval.id : "";
    const listed = await json(["approvals", "list", "--state", "pending"]);
    expect(listed.approvals.map((approval: { id: string }) => approval.id)).toContain(id);
    const table = await run(["approvals", "list"]);
    expect(table.stdout).toContain("path=/tmp/cli.txt");
    const approved = await json(["approvals", "approve", id, "--note", "once only"]);
    expect(approved).toMatchObject({ state: "approved", decision_note: "once only", outcome: { status: "succeeded" } });
    const again = await run(["approvals", "approve", id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("conflict");

    const denied = ciab.tools(sessionID).call("write_file", { path: "/tmp/no.txt", content: "n" }, { wait: 10 }).then(() => undefined, (error: unknown) => error);
    let pending: string | undefined;
    for (let attempt = 0; attempt < 50 && !pending; attempt += 1) {
      pending = (await ciab.approvals.list({ state: "pending" })).approvals[0]?.id;
      if (!pending) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const note = "no writes to /tmp; use /workspace/out";
    expect(await json(["approvals", "deny", pending!, "--note", note])).toMatchObject({ state: "denied", decision_note: note });
    const refused = await denied;
    expect(refused).toBeInstanceOf(ApprovalDeniedError);
    expect((refused as Error).message.endsWith(note)).toBe(true);
    expect((await ciab.approvals.get(pending!)).decision_note).toBe(note);

    const audit = await json(["audit", "--tool", "write_file", "--session", sessionID]);
    expect(audit.entries.map((entry: { result: string }) => entry.result)).toEqual(["approval_pending", "ok", "approval_pending"]);
    expect((await run(["audit", "--tool", "approval.deny"])).stdout).toContain("approval.deny");
    expect((await ciab.audit.list({ tool: "shell" })).entries).toHaveLength(1);
  });
});
