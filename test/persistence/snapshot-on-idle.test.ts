import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type ApiAnswer, type TestServer } from "../harness/test-server.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The host pid of the agentd serving `sandboxID`. */
function agentdProcess(sandboxID: string): number | undefined {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const argv = (() => {
      try {
        return readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      } catch {
        return [];
      }
    })();
    if (argv[1]?.endsWith("agentd.mjs") && argv.includes(sandboxID)) return Number(name);
  }
  return undefined;
}

/** `snapshot-on-idle` on the local runtime: the work dir is saved before the sandbox ends, within a bound. */
describe("snapshot-on-idle on the local runtime", () => {
  let server: TestServer;

  /** Polls a GET until `done` holds, for at most `timeoutMs`. */
  async function waitFor(route: string, done: (body: ApiAnswer["body"]) => boolean, timeoutMs = 20_000): Promise<ApiAnswer["body"]> {
    const deadline = Date.now() + timeoutMs;
    let body = (await server.api("GET", route)).body;
    while (!done(body) && Date.now() < deadline) {
      await sleep(200);
      body = (await server.api("GET", route)).body;
    }
    return body;
  }

  async function run(sandboxID: string, script: string): Promise<string> {
    const answer = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", script] });
    expect(answer.body.exit_code, JSON.stringify(answer.body)).toBe(0);
    return answer.body.stdout as string;
  }

  async function eventsOf(sessionID: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
    return (await server.api("GET", `/sessions/${sessionID}/events`)).body.events;
  }

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        CIAB_SESSION_IDLE_TIMEOUT: "2",
        CIAB_BUDGET_ENFORCE_INTERVAL_SECONDS: "0.3",
        CIAB_RUNTIME_FINAL_SNAPSHOT_TIMEOUT_SECONDS: "4",
        CIAB_RUNTIME_LOCAL_WORKSPACE_SIZE_MB: "64",
      },
    });
  }, 60_000);
  afterAll(async () => server?.close());

  test("an idle session's work dir is snapshotted before the reaper ends it, and a later session restores it", async () => {
    const created = await server.api("POST", "/sessions", { provider: "shell", runtime: "local", persistence: "snapshot-on-idle" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await waitFor(`/sessions/${created.body.id}`, (session) => session.state === "idle");
    await run(started.sandbox_id, "mkdir -p work/empty && printf wip > work/notes && chmod 600 work/notes");

    const ended = await waitFor(`/sessions/${created.body.id}`, (session) => session.final_snapshot_id !== null && session.state === "cancelled");
    expect(ended).toMatchObject({ state: "cancelled", end_reason: "idle_timeout", persistence: "snapshot-on-idle" });
    const snapshotID = ended.final_snapshot_id as string;
    expect(snapshotID).toMatch(/^snap_/);
    const snapshot = (await server.api("GET", `/snapshots/${snapshotID}`)).body;
    expect(snapshot).toMatchObject({ label: "auto-snapshot (idle_timeout)", sandbox_id: started.sandbox_id });
    expect(await eventsOf(created.body.id)).toContainEqual(
      expect.objectContaining({ type: "session.snapshot.created", data: { snapshot_id: snapshotID, label: "auto-snapshot (idle_timeout)", reason: "idle_timeout" } }),
    );
    const sandbox = await waitFor(`/sandboxes/${started.sandbox_id}`, (body) => body.state === "terminated");
    expect(sandbox).toMatchObject({ state: "terminated", end_reason: "idle_timeout", final_snapshot_id: snapshotID });

    const later = await server.api("POST", "/sessions", { provider: "shell", runtime: "local", restore: snapshotID, prompt: "cat work/notes; stat -c %a work/notes; ls work" });
    expect(later.status, JSON.stringify(later.body)).toBe(201);
    const done = await waitFor(`/sessions/${later.body.id}`, (session) => ["completed", "failed"].includes(session.state));
    expect(done.state).toBe("completed");
    const output = (await eventsOf(later.body.id))
      .filter((event) => event.type === "shell.output")
      .map((event) => Buffer.from(String(event.data.data), "base64").toString())
      .join("");
    expect(output).toBe("wip600\nempty\nnotes\n");
  }, 60_000);

  test("a headless session's end and a sandbox's delete snapshot too; ephemeral ones do not", async () => {
    const headless = await server.api("POST", "/sessions", { provider: "shell", runtime: "local", persistence: "snapshot-on-idle", prompt: "echo built > out.txt" });
    const finished = await waitFor(`/sessions/${headless.body.id}`, (session) => session.final_snapshot_id !== null);
    expect(finished.state).toBe("completed");
    expect((await server.api("GET", `/snapshots/${finished.final_snapshot_id}`)).body.label).toBe("auto-snapshot (session_end)");

    const sandbox = (await server.api("POST", "/sandboxes", { runtime: "local", persistence: "snapshot-on-idle" })).body;
    expect(sandbox.persistence).toBe("snapshot-on-idle");
    // Two deletes at once (a person and the max-runtime killer): one snapshot, the same answer.
    const [deleted, again] = await Promise.all([server.api("DELETE", `/sandboxes/${sandbox.id}`), server.api("DELETE", `/sandboxes/${sandbox.id}`)]);
    expect(deleted.body).toMatchObject({ state: "terminated", final_snapshot_id: expect.stringMatching(/^snap_/) });
    expect(again.body.final_snapshot_id).toBe(deleted.body.final_snapshot_id);
    expect((await server.api("GET", `/snapshots?sandbox_id=${sandbox.id}`)).body.snapshots).toHaveLength(1);
    expect((await server.api("GET", `/snapshots/${deleted.body.final_snapshot_id}`)).body.label).toBe("auto-snapshot (deleted)");

    const plain = (await server.api("POST", "/sandboxes", { runtime: "local" })).body;
    expect(plain.persistence).toBe("ephemeral");
    expect((await server.api("DELETE", `/sandboxes/${plain.id}`)).body.final_snapshot_id).toBeNull();
  }, 60_000);

  test("a snapshot that hangs does not keep the sandbox: it ends without one after the timeout", async () => {
    const sandbox = (await server.api("POST", "/sandboxes", { runtime: "local", persistence: "snapshot-on-idle" })).body;
    // Freeze the jail's agentd (found from the host by its argv): nothing it is asked answers any more.
    const agentd = agentdProcess(sandbox.id);
    expect(agentd).toBeDefined();
    process.kill(agentd!, "SIGSTOP");
    const at = Date.now();
    const deleted = await server.api("DELETE", `/sandboxes/${sandbox.id}`);
    const seconds = (Date.now() - at) / 1000;
    expect(deleted.body).toMatchObject({ state: "terminated", final_snapshot_id: null });
    // The 4 s bound, plus the jail's teardown.
    expect(seconds).toBeGreaterThanOrEqual(3.9);
    expect(seconds).toBeLessThan(15);
    expect((await server.api("GET", `/snapshots?sandbox_id=${sandbox.id}`)).body.snapshots).toEqual([]);
  }, 60_000);
});
