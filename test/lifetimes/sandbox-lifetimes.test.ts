import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Sandbox } from "../../packages/protocol/src/index.js";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** Sandbox timeouts on a real server with local (bwrap) sandboxes and a fast lifetime loop. */
describe("sandbox lifetimes", () => {
  let server: TestServer;
  let ciab: Ciab;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        CIAB_SANDBOXES_CHECK_INTERVAL_SECONDS: "0.2",
        CIAB_SANDBOXES_PAUSED_RETENTION_SECONDS: "2",
        CIAB_SANDBOXES_MAX_TIMEOUT_SECONDS: "3600",
      },
    });
    ciab = new Ciab({ url: server.url, token: server.token });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function until(id: string, done: (sandbox: Sandbox) => boolean, timeoutMs = 15_000): Promise<Sandbox> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sandbox = (await ciab.sandboxes.get(id)).info;
      if (done(sandbox)) return sandbox;
      if (Date.now() > deadline) throw new Error(`sandbox ${id} is still ${sandbox.state}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  test("a sandbox past its timeout is paused, then deleted after the paused retention", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "local", timeout_secs: 1 });
    expect(sandbox.info).toMatchObject({ state: "ready", timeout_secs: 1, on_timeout: "pause", delete_after: null });
    expect(Date.parse(sandbox.info.expires_at!)).toBeGreaterThan(Date.now() - 1_000);
    const paused = await until(sandbox.id, (info) => info.state === "paused");
    expect(paused.expires_at).toBeNull();
    expect(Date.parse(paused.delete_after!)).toBeGreaterThan(Date.now());
    const deleted = await until(sandbox.id, (info) => info.state === "terminated");
    expect(deleted.end_reason).toBe("retention");
  });

  test("on_timeout delete deletes it; set-timeout moves the deadline; over the maximum is refused", async () => {
    const doomed = await ciab.sandboxes.create({ runtime: "local", timeout_secs: 1, on_timeout: "delete" });
    const kept = await ciab.sandboxes.create({ runtime: "local", timeout_secs: 1 });
    const extended = await kept.setTimeout(600);
    expect(extended.timeout_secs).toBe(600);
    expect(Date.parse(extended.expires_at!) - Date.now()).toBeGreaterThan(590_000);
    expect((await until(doomed.id, (info) => info.state === "terminated")).end_reason).toBe("timeout");
    expect((await kept.refresh()).state).toBe("ready");

    const { status, body } = await server.api("POST", `/sandboxes/${kept.id}/timeout`, { timeout_secs: 7200 });
    expect(status).toBe(400);
    expect(body.error.message).toContain("max_timeout_seconds");
    expect((await server.api("POST", "/sandboxes", { runtime: "local", timeout_secs: 0 })).status).toBe(400);
    await kept.delete();
  });

  test("a sandbox a running session uses is not timed out under it; it times out after the session ends", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "local", timeout_secs: 1, on_timeout: "delete" });
    const session = await ciab.sessions.create({ provider: "shell", prompt: "sleep 60", sandbox_id: sandbox.id });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const held = (await sandbox.refresh());
    expect(held.state).toBe("ready");
    expect(Date.parse(held.expires_at!)).toBeGreaterThan(Date.now() - 500);
    await ciab.sessions.cancel(session.id);
    expect((await until(sandbox.id, (info) => info.state === "terminated")).end_reason).toBe("timeout");
    expect((await ciab.sessions.get(session.id))).toMatchObject({ state: "cancelled", exit_code: 130 });
  });
});
