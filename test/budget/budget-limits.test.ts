import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab, type ProcessAttachment, type Session } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `done` holds, for at most `timeoutMs`. */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(150);
    value = await read();
  }
  return value;
}

const live = (session: Session) => !["completed", "failed", "cancelled"].includes(session.state);

describe("max runtime and the idle reaper on the local runtime", () => {
  let server: TestServer;
  let ciab: Ciab;
  let typing: ProcessAttachment | undefined;
  beforeAll(async () => {
    // The seed's alias names; 12 s of life, 2 s of idleness, looked at every 0.3 s; a local machine costs $36/h.
    server = await startTestServer({
      env: {
        CIAB_EC2_MAX_RUNTIME_MINUTES: "0.2",
        CIAB_SESSION_IDLE_TIMEOUT: "2",
        CIAB_BUDGET_ENFORCE_INTERVAL_SECONDS: "0.3",
        CIAB_BUDGET_LOCAL_USD_PER_HOUR: "36",
      },
    });
    ciab = new Ciab({ url: server.url, token: server.token });
  });
  afterAll(async () => {
    await typing?.close();
    await server?.close();
  });

  test("an idle interactive session ends with idle_timeout; busy ones survive; max_runtime ends the rest", async () => {
    const standalone = await ciab.sandboxes.create({ runtime: "local" });
    const idle = await ciab.sessions.create({ provider: "shell", runtime: "local" });
    const talkative = await ciab.sessions.create({ provider: "shell", runtime: "local", prompt: "while :; do echo tick; sleep 0.3; done" });
    const attended = await ciab.sessions.create({ provider: "shell", runtime: "local" });
    await waitFor(() => ciab.sessions.get(attended.id), (session) => session.state === "idle", 10_000);
    typing = await ciab.sessions.attach(attended.id);
    const keys = setInterval(() => typing?.write(":\n"), 400);
    try {
      const reaped = await waitFor(() => ciab.sessions.get(idle.id), (session) => !live(session), 15_000);
      expect(reaped).toMatchObject({ state: "cancelled", end_reason: "idle_timeout", mode: "interactive" });
      // Polled with GETs all along, which is not traffic: the other two live because they are busy.
      expect((await ciab.sessions.get(talkative.id)).state).toBe("running");
      expect((await ciab.sessions.get(attended.id)).state).toBe("idle");
      await sleep(2_500);
      expect((await ciab.sessions.get(attended.id)).state).toBe("idle");
      const idleSandbox = await waitFor(() => ciab.sandboxes.get(reaped.sandbox_id!), (sandbox) => sandbox.info.state === "terminated", 10_000);
      expect(idleSandbox.info).toMatchObject({ state: "terminated", end_reason: "idle_timeout" });
    } finally {
      clearInterval(keys);
    }

    const killed = await waitFor(() => ciab.sessions.get(talkative.id), (session) => !live(session), 20_000);
    expect(killed).toMatchObject({ state: "failed", end_reason: "max_runtime", failure: { reason: "max_runtime" } });
    const seconds = (Date.parse(killed.ended_at!) - Date.parse(killed.created_at)) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(12);
    expect(seconds).toBeLessThan(20);
    expect(killed.cost_usd).toBeCloseTo(seconds * 0.01, 6);
    const killedSandbox = await waitFor(() => ciab.sandboxes.get(killed.sandbox_id!), (sandbox) => sandbox.info.state === "terminated", 10_000);
    expect(killedSandbox.info.end_reason).toBe("max_runtime");
    expect(killedSandbox.info.cost_usd).toBeGreaterThan(0.1);

    const gone = await waitFor(() => ciab.sandboxes.get(standalone.id), (sandbox) => sandbox.info.state === "terminated", 10_000);
    expect(gone.info).toMatchObject({ state: "terminated", end_reason: "max_runtime" });
    // Cost stops with the machine.
    const frozen = gone.info.cost_usd;
    await sleep(500);
    expect((await ciab.sandboxes.get(standalone.id)).info.cost_usd).toBe(frozen);
  }, 90_000);
});
