import { describe, expect, test } from "vitest";
import { createSilentLogger } from "../logger.js";
import type { SandboxRecord } from "../store/records.js";
import { createSqliteStore } from "../store/sqlite/index.js";
import type { Store } from "../store/store.js";
import { readySandbox } from "./loop-test-records.js";
import { createReconciler } from "./reconciler.js";

/**
 * The reconciler lists rows, then machines; on a loaded host the listing of machines can take seconds, and a
 * row listed as provisioning may have moved on by then. CI once saw a sandbox that had just become ready
 * failed as `provision_interrupted` this way.
 */
const t0 = "2026-11-25T10:00:00.000Z";

async function openStore(): Promise<Store> {
  const store = createSqliteStore({ filename: ":memory:" });
  await store.migrate();
  await store.workspaces.create({ id: "ws_a", name: "a", createdAt: t0 });
  return store;
}

/** A runtime whose listing runs `meanwhile` first, as another request would while the backend is slow. */
function runtimeListing(machines: () => { machineID: string; sandboxID: string }[], meanwhile: () => Promise<void>) {
  const destroyed: string[] = [];
  return {
    destroyed,
    runtime: {
      name: "local",
      async listManaged() {
        await meanwhile();
        return machines().map((machine) => ({ ...machine, state: "running" as const, details: {} }));
      },
      async destroy(machine: { machineID: string }) {
        destroyed.push(machine.machineID);
      },
    },
  };
}

function reconcilerOver(store: Store, runtime: unknown, failed: string[]) {
  return createReconciler({
    store,
    runtimes: { all: () => [runtime] } as never,
    sandboxes: {
      isProvisioningHere: () => false,
      async fail(sandbox: SandboxRecord, reason: string) {
        failed.push(`${sandbox.id}:${reason}`);
      },
    } as never,
    logger: createSilentLogger(),
    orphanGraceMs: 60_000,
  });
}

describe("the reconciler and rows that move on while it lists machines", () => {
  test("a sandbox that became ready after it was listed as provisioning is not failed", async () => {
    const store = await openStore();
    const sandbox = readySandbox("ws_a", t0, { state: "provisioning", machine: null, readyAt: null });
    await store.sandboxes.create(sandbox);
    // The machine started after the listing began, so the listing misses it; the row became ready meanwhile.
    const { runtime } = runtimeListing(() => [], async () => {
      await store.sandboxes.update(sandbox.id, { state: "ready", machine: { machineID: "m1", sandboxID: sandbox.id, details: {} } });
    });
    const failed: string[] = [];
    const report = await reconcilerOver(store, runtime, failed).reconcileOnce();
    expect(failed).toEqual([]);
    expect(report.lost).toEqual([]);
    expect((await store.sandboxes.get("ws_a", sandbox.id))!.state).toBe("ready");
    await store.close();
  });

  test("a sandbox that failed after it was listed as provisioning is not brought back to ready", async () => {
    const store = await openStore();
    const sandbox = readySandbox("ws_a", t0, { state: "provisioning", machine: null, readyAt: null });
    await store.sandboxes.create(sandbox);
    const { runtime } = runtimeListing(() => [{ machineID: "m1", sandboxID: sandbox.id }], async () => {
      await store.sandboxes.update(sandbox.id, { state: "failed", failureReason: "agent_unreachable", failureMessage: "no answer" });
    });
    const report = await reconcilerOver(store, runtime, []).reconcileOnce();
    expect(report.stateSynced).toEqual([]);
    expect((await store.sandboxes.get("ws_a", sandbox.id))!.state).toBe("failed");
    await store.close();
  });

  test("a row that did not move on is still reconciled: a ready sandbox without its machine is lost", async () => {
    const store = await openStore();
    const sandbox = readySandbox("ws_a", t0, { machine: { machineID: "m1", sandboxID: "", details: {} } });
    await store.sandboxes.create(sandbox);
    const { runtime } = runtimeListing(() => [], async () => undefined);
    const failed: string[] = [];
    await reconcilerOver(store, runtime, failed).reconcileOnce();
    expect(failed).toEqual([`${sandbox.id}:machine_lost`]);
    await store.close();
  });
});
