import { describe, expect, test } from "vitest";
import { createSilentLogger } from "../logger.js";
import { sandboxRecord, sessionRecord } from "../store/contract/fixtures.js";
import type { SandboxRecord } from "../store/records.js";
import { createSqliteStore } from "../store/sqlite/sqlite-store.js";
import type { EventService } from "./event-service.js";
import type { SandboxService } from "./sandbox-service.js";
import { createSessionTeardown } from "./session-teardown.js";

/** The end of a job session whose sandbox is kept (docs/decisions/0043), against the real SQLite store. */
describe("session teardown of a kept job sandbox", () => {
  async function endWith(stateWhenStopped: SandboxRecord["state"]): Promise<string[]> {
    const store = createSqliteStore({ filename: ":memory:" });
    await store.migrate();
    await store.workspaces.create({ id: "ws_a", name: "ws_a", createdAt: new Date().toISOString() });
    const sandbox = sandboxRecord("ws_a", { runtime: "fargate", machine: { machineID: "task", sandboxID: "", details: { job: true } } });
    await store.sandboxes.create(sandbox);
    const session = sessionRecord("ws_a", { sandboxID: sandbox.id, keepSandbox: true, state: "cancelled", endReason: "cancelled" });
    await store.sessions.create(session);
    const failed: string[] = [];
    const sandboxes = {
      // The record as read before StopTask; the user's delete of the sandbox lands during the call.
      async stopJob() {
        await store.sandboxes.update(sandbox.id, { state: stateWhenStopped });
        return sandbox;
      },
      async fail(record: SandboxRecord, reason: string) {
        failed.push(`${record.id}:${reason}`);
        return record;
      },
    } as unknown as SandboxService;
    const events = { append: async () => undefined, release: () => undefined } as unknown as EventService;
    const teardown = createSessionTeardown({ store, events, sandboxes, gateway: { open: async () => undefined, cutOff: () => undefined }, logger: createSilentLogger() });
    await teardown.finish(session);
    await store.close();
    return failed.map((entry) => entry.replace(sandbox.id, "sandbox"));
  }

  test("a sandbox still ready once its task is stopped fails with job_stopped", async () => {
    expect(await endWith("ready")).toEqual(["sandbox:job_stopped"]);
  });

  test("a sandbox deleted while its task was being stopped stays as its delete left it", async () => {
    expect(await endWith("terminating")).toEqual([]);
    expect(await endWith("terminated")).toEqual([]);
  });
});
