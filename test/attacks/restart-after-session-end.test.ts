import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createSqliteStore } from "../../packages/server/src/store/sqlite/sqlite-store.js";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

/**
 * The control plane dies after a session's end is recorded and before that end is carried out (its job
 * stopped, its sandbox deleted: session-teardown.ts). The restarted one carries it out, rather than leaving
 * the agent's machine running, and its volume held, until the sandbox's own lifetime ends.
 */
describe("a control plane restarted between a session's end and its teardown", () => {
  const data = makeTempDirectory("ciab-end-restart-");
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.kill("SIGTERM");
    data.remove();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function api(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${server!.url}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${server!.token}`, ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  }

  test("deletes the sandbox the ended session made", async () => {
    server = await startServerProcess(data.path);
    const created = await api("POST", "/sessions", { provider: "shell", runtime: "local", prompt: "sleep 120" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    let session = created.body;
    const deadline = Date.now() + 30_000;
    while (session.state !== "running" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      session = (await api("GET", `/sessions/${created.body.id}`)).body;
    }
    expect(session.state).toBe("running");
    await server.kill("SIGKILL");

    // What the store holds when the end was written and the teardown never ran.
    const store = createSqliteStore({ filename: path.join(data.path, "ciab.db") });
    try {
      await store.sessions.update(session.id, { state: "cancelled", endReason: "cancelled", exitCode: 130, endedAt: new Date().toISOString() });
    } finally {
      await store.close();
    }
    server = await startServerProcess(data.path);
    let sandbox = (await api("GET", `/sandboxes/${session.sandbox_id}`)).body;
    const ended = Date.now() + 30_000;
    while (sandbox.state !== "terminated" && Date.now() < ended) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      sandbox = (await api("GET", `/sandboxes/${session.sandbox_id}`)).body;
    }
    expect(sandbox.state).toBe("terminated");
  }, 90_000);
});
