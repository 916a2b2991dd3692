import { afterEach, beforeEach, expect, test } from "vitest";
import { newID } from "../../packages/server/src/ids.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import { createIdleReaper } from "../../packages/server/src/loops/idle-reaper.js";
import { createMaxRuntimeKiller } from "../../packages/server/src/loops/max-runtime-killer.js";
import { createSandboxLifetimes } from "../../packages/server/src/loops/sandbox-lifetimes.js";
import { readySandbox, startedShellSession } from "../../packages/server/src/loops/loop-test-records.js";
import { createActivityTracker } from "../../packages/server/src/services/activity-tracker.js";
import type { SandboxRecord, SessionRecord } from "../../packages/server/src/store/records.js";
import { createSqliteStore } from "../../packages/server/src/store/sqlite/index.js";
import type { Store } from "../../packages/server/src/store/store.js";

/**
 * A tenant's sandboxes end slowly on purpose: snapshot-on-idle with an agentd that drags the final snapshot's
 * tar out to `final_snapshot_timeout_seconds` (600 s by default). The lifetime loop handled its batch one
 * sandbox after another, so every other tenant's due sandbox waited that long per slow one ahead of it.
 * A pass now waits a bounded time per sandbox and goes on; the slow ending carries on, once.
 */
const now = Date.parse("2026-11-25T10:00:00.000Z");
const at = (offsetSeconds: number) => new Date(now + offsetSeconds * 1000).toISOString();

function dueSandbox(workspaceID: string): SandboxRecord {
  return readySandbox(workspaceID, at(-600), { userID: `usr_${workspaceID}`, timeoutSeconds: 300, onTimeout: "delete", expiresAt: at(-1), deleteAfter: null });
}

function sessionRecord(id: string): SessionRecord {
  return startedShellSession("ws_slow", at(-600), { id, ownsSandbox: false });
}

/** A runner whose `end` hangs for the slow tenant's sessions until `finish`, and counts every call. */
function slowRunner(slowIDs: Set<string>) {
  const finish: (() => void)[] = [];
  const ends = new Map<string, number>();
  return {
    finish,
    ends,
    async end(record: SessionRecord) {
      ends.set(record.id, (ends.get(record.id) ?? 0) + 1);
      if (slowIDs.has(record.id)) await new Promise<void>((resolve) => finish.push(resolve));
    },
  };
}

/** Runs a pass, failing the test if it takes 3 s: answers its result. */
async function boundedPass<T>(pass: Promise<T>): Promise<T> {
  const outcome = await Promise.race([pass, new Promise<"stuck">((resolve) => setTimeout(() => resolve("stuck"), 3_000))]);
  expect(outcome).not.toBe("stuck");
  return outcome as T;
}

/** Two sessions of the slow tenant (oldest ids) and one of another, all long past any limit. */
function sessions(): { slow: SessionRecord[]; other: SessionRecord } {
  const [first, second, third] = [newID("ses"), newID("ses"), newID("ses")].sort();
  return { slow: [sessionRecord(first!), sessionRecord(second!)], other: { ...sessionRecord(third!), workspaceID: "ws_other" } };
}

let store: Store;
beforeEach(async () => {
  store = createSqliteStore({ filename: ":memory:" });
  await store.migrate();
  await store.workspaces.create({ id: "ws_slow", name: "slow", createdAt: at(-900) });
  await store.workspaces.create({ id: "ws_other", name: "other", createdAt: at(-900) });
});
afterEach(async () => {
  await store.close();
});

test("sandboxes that end slowly hold no other tenant's due sandbox past a bounded wait", async () => {
  // The slow tenant's sandboxes have the oldest ids: the store lists them first.
  const slow = [dueSandbox("ws_slow"), dueSandbox("ws_slow")];
  const other = dueSandbox("ws_other");
  for (const record of [...slow, other]) await store.sandboxes.create(record);
  const slowIDs = new Set(slow.map((record) => record.id));
  const finish: (() => void)[] = [];
  const deletes = new Map<string, number>();
  const sandboxes = {
    pause: async () => undefined as never,
    extendLife: async () => undefined,
    startRetention: async () => undefined,
    async delete(_principal: unknown, id: string) {
      deletes.set(id, (deletes.get(id) ?? 0) + 1);
      if (slowIDs.has(id)) await new Promise<void>((resolve) => finish.push(resolve));
      await store.sandboxes.update(id, { state: "terminated", terminatedAt: at(0) });
    },
  };
  const loop = createSandboxLifetimes({ store, sandboxes: sandboxes as never, batchSize: 10, logger: createSilentLogger(), now: () => now, itemWaitMs: 100 });

  const started = Date.now();
  const pass = await Promise.race([loop.checkOnce(), new Promise<"stuck">((resolve) => setTimeout(() => resolve("stuck"), 3_000))]);
  expect(pass).not.toBe("stuck");
  expect(Date.now() - started).toBeLessThan(2_000);
  expect((await store.sandboxes.get("ws_other", other.id))?.state).toBe("terminated");

  // The slow endings carry on and are not started again by the next pass.
  await loop.checkOnce();
  for (const id of slowIDs) expect(deletes.get(id)).toBe(1);
  for (const resolve of finish.splice(0)) resolve();
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const record of slow) expect((await store.sandboxes.get("ws_slow", record.id))?.state).toBe("terminated");
});

test("sessions that end slowly hold no other tenant's max-runtime end", async () => {
  const { slow, other } = sessions();
  for (const record of [...slow, other]) await store.sessions.create(record);
  const runner = slowRunner(new Set(slow.map((record) => record.id)));
  const sandboxes = { delete: async () => undefined as never };
  const killer = createMaxRuntimeKiller({ store, runner, sandboxes, maxRuntimeMs: 1_000, logger: createSilentLogger(), now: () => now, itemWaitMs: 100 });
  expect((await boundedPass(killer.killOnce())).sessions).toEqual([other.id]);
  await boundedPass(killer.killOnce());
  for (const record of slow) expect(runner.ends.get(record.id)).toBe(1);
  for (const resolve of runner.finish.splice(0)) resolve();
});

test("sessions that end slowly hold no other tenant's idle end", async () => {
  const { slow, other } = sessions();
  for (const record of [...slow, other]) await store.sessions.create(record);
  const runner = slowRunner(new Set(slow.map((record) => record.id)));
  let clock = now;
  const reaper = createIdleReaper({ store, runner, activity: createActivityTracker(() => clock), idleTimeoutMs: 1, logger: createSilentLogger(), now: () => clock, itemWaitMs: 100 });
  clock += 1_000;
  expect(await boundedPass(reaper.reapOnce())).toEqual([other.id]);
  await boundedPass(reaper.reapOnce());
  for (const record of slow) expect(runner.ends.get(record.id)).toBe(1);
  for (const resolve of runner.finish.splice(0)) resolve();
});
