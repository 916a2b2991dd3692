import { describe, expect, test } from "vitest";
import { newID } from "../ids.js";
import { createSilentLogger } from "../logger.js";
import { createActivityTracker } from "../services/activity-tracker.js";
import type { SessionEnding } from "../services/session-transitions.js";
import type { SandboxRecord, SessionRecord } from "../store/records.js";
import { createSqliteStore } from "../store/sqlite/index.js";
import type { Store } from "../store/store.js";
import { createCostAccrual } from "./cost-accrual.js";
import { readySandbox, startedShellSession } from "./loop-test-records.js";
import { createIdleReaper } from "./idle-reaper.js";
import { createMaxRuntimeKiller } from "./max-runtime-killer.js";
import { createReconciler } from "./reconciler.js";

/**
 * Each background loop meets items that keep failing ahead of a healthy one (ids sort the failing first, as
 * the stores list them): the healthy one is still handled in the first pass, and a failed item is not
 * retried on every pass but after its backoff.
 */
const t0 = Date.parse("2026-11-25T10:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

/** `count` ids of a prefix in store order; the last is the healthy one. */
function orderedIDs(prefix: "ses" | "sbx", count: number): { failing: string[]; healthy: string } {
  const ids = Array.from({ length: count }, () => newID(prefix)).sort((a, b) => (a < b ? -1 : 1));
  return { failing: ids.slice(0, -1), healthy: ids.at(-1)! };
}

function sessionRecord(id: string): SessionRecord {
  return startedShellSession("ws_a", iso(t0), { id, ownsSandbox: false });
}

function sandboxRecord(id: string, overrides: Partial<SandboxRecord> = {}): SandboxRecord {
  return readySandbox("ws_a", iso(t0), { id, usdPerHour: 1, meteredSince: iso(t0), ...overrides });
}

async function openStore(): Promise<Store> {
  const store = createSqliteStore({ filename: ":memory:" });
  await store.migrate();
  await store.workspaces.create({ id: "ws_a", name: "a", createdAt: iso(t0) });
  return store;
}

/** A runner whose `end` fails for `failing` and counts every attempt. */
function runnerFailing(failing: string[]) {
  const attempts = new Map<string, number>();
  return {
    attempts,
    async end(record: SessionRecord, _ending: SessionEnding) {
      attempts.set(record.id, (attempts.get(record.id) ?? 0) + 1);
      if (failing.includes(record.id)) throw new Error("the machine does not answer");
    },
  };
}

describe("loops with items that keep failing", () => {
  test("the idle reaper", async () => {
    const store = await openStore();
    const { failing, healthy } = orderedIDs("ses", 4);
    for (const id of [...failing, healthy]) await store.sessions.create(sessionRecord(id));
    const runner = runnerFailing(failing);
    let clock = t0 + 60_000;
    const reaper = createIdleReaper({ store, runner, activity: createActivityTracker(() => clock), idleTimeoutMs: 1, logger: createSilentLogger(), now: () => clock });
    clock += 1_000;
    expect(await reaper.reapOnce()).toEqual([healthy]);
    clock += 1_000;
    await reaper.reapOnce();
    for (const id of failing) expect(runner.attempts.get(id)).toBe(1);
    clock += 60 * 60_000;
    await reaper.reapOnce();
    for (const id of failing) expect(runner.attempts.get(id)).toBe(2);
    await store.close();
  });

  test("the max-runtime killer, for sessions and for sandboxes", async () => {
    const store = await openStore();
    const sessions = orderedIDs("ses", 3);
    for (const id of [...sessions.failing, sessions.healthy]) await store.sessions.create(sessionRecord(id));
    const machines = orderedIDs("sbx", 3);
    for (const id of [...machines.failing, machines.healthy]) await store.sandboxes.create(sandboxRecord(id));
    const runner = runnerFailing(sessions.failing);
    const deleted: string[] = [];
    const sandboxes = {
      async delete(_principal: unknown, id: string) {
        if (machines.failing.includes(id)) throw new Error("the backend refuses");
        deleted.push(id);
        return undefined as never;
      },
    };
    const killer = createMaxRuntimeKiller({ store, runner, sandboxes, maxRuntimeMs: 1_000, logger: createSilentLogger(), now: () => t0 + 5_000 });
    const first = await killer.killOnce();
    expect(first.sessions).toEqual([sessions.healthy]);
    expect(first.sandboxes).toEqual([machines.healthy]);
    await killer.killOnce();
    for (const id of sessions.failing) expect(runner.attempts.get(id)).toBe(1);
    await store.close();
  });

  test("the cost accrual", async () => {
    const store = await openStore();
    const { failing, healthy } = orderedIDs("sbx", 3);
    for (const id of [...failing, healthy]) await store.sandboxes.create(sandboxRecord(id));
    const attempts = new Map<string, number>();
    const refusing: Store = {
      ...store,
      sandboxes: {
        ...store.sandboxes,
        async accrue(id, now) {
          attempts.set(id, (attempts.get(id) ?? 0) + 1);
          if (failing.includes(id)) throw new Error("the row is locked");
          return store.sandboxes.accrue(id, now);
        },
      },
    };
    let clock = t0 + 30 * 60_000;
    const accrual = createCostAccrual(refusing, () => new Date(clock), createSilentLogger());
    expect(await accrual.accrueOnce()).toBe(1);
    expect((await store.sandboxes.get("ws_a", healthy))!.costUSD).toBeCloseTo(0.5, 10);
    clock += 1_000;
    await accrual.accrueOnce();
    for (const id of failing) expect(attempts.get(id)).toBe(1);
    await store.close();
  });

  test("the reconciler, whose failed steps never turn into a destroy", async () => {
    const store = await openStore();
    const { failing, healthy } = orderedIDs("sbx", 3);
    for (const id of [...failing, healthy]) await store.sandboxes.create(sandboxRecord(id, { state: "terminating" }));
    const destroyed: string[] = [];
    const destroyAttempts = new Map<string, number>();
    const runtime = {
      name: "local",
      async listManaged() {
        return [...failing, healthy].filter((id) => !destroyed.includes(id)).map((id) => ({ machineID: `m-${id}`, sandboxID: id, state: "running" as const, details: {} }));
      },
      async destroy(machine: { machineID: string; sandboxID: string }) {
        destroyAttempts.set(machine.sandboxID, (destroyAttempts.get(machine.sandboxID) ?? 0) + 1);
        if (failing.includes(machine.sandboxID)) throw new Error("the backend refuses");
        destroyed.push(machine.sandboxID);
      },
    };
    const reconciler = createReconciler({
      store,
      runtimes: { all: () => [runtime] } as never,
      sandboxes: { isProvisioningHere: () => false } as never,
      logger: createSilentLogger(),
      orphanGraceMs: 0,
    });
    const report = await reconciler.reconcileOnce();
    expect(report.finished).toEqual([healthy]);
    expect((await store.sandboxes.get("ws_a", healthy))!.state).toBe("terminated");
    await reconciler.reconcileOnce();
    // The failing ones were tried once as terminating rows, and their machines were not swept as orphans.
    for (const id of failing) expect(destroyAttempts.get(id)).toBe(1);
    expect(destroyed).toContain(healthy);
    expect(destroyed.filter((id) => failing.includes(id))).toEqual([]);
    await store.close();
  });
});
