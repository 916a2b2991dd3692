import { describe, expect, test } from "vitest";
import { createSilentLogger } from "../logger.js";
import { createActivityTracker } from "../services/activity-tracker.js";
import type { SessionEnding } from "../services/session-transitions.js";
import type { SessionRecord } from "../store/records.js";
import { createSqliteStore } from "../store/sqlite/index.js";
import { createIdleReaper } from "./idle-reaper.js";
import { startedShellSession } from "./loop-test-records.js";
import { createMaxRuntimeKiller } from "./max-runtime-killer.js";

const t0 = Date.parse("2026-11-25T10:00:00.000Z");

function session(overrides: Partial<SessionRecord>): SessionRecord {
  return startedShellSession("ws_a", new Date(t0).toISOString(), overrides);
}

async function setUp() {
  const store = createSqliteStore({ filename: ":memory:" });
  await store.migrate();
  await store.workspaces.create({ id: "ws_a", name: "a", createdAt: new Date(t0).toISOString() });
  const ended: Array<{ id: string; ending: SessionEnding }> = [];
  const runner = { end: async (record: SessionRecord, ending: SessionEnding) => void ended.push({ id: record.id, ending }) };
  return { store, ended, runner };
}

describe("the budget's loops on a fake clock", () => {
  test("the reaper ends sessions without traffic for the timeout, counting from its own start after a restart", async () => {
    const { store, ended, runner } = await setUp();
    let clock = t0 + 60_000;
    const quiet = session({});
    const busy = session({ state: "running", prompt: "loop" });
    const starting = session({ state: "starting", startedAt: null });
    for (const record of [quiet, busy, starting]) await store.sessions.create(record);
    const activity = createActivityTracker(() => clock);
    // Started a minute after the sessions, as after a restart: nobody is idle yet.
    const reaper = createIdleReaper({ store, runner, activity, idleTimeoutMs: 30_000, logger: createSilentLogger(), now: () => clock });
    expect(await reaper.reapOnce()).toEqual([]);

    clock += 20_000;
    activity.touch(busy.sandboxID!);
    clock += 15_000;
    expect(await reaper.reapOnce()).toEqual([quiet.id]);
    expect(ended).toEqual([{ id: quiet.id, ending: { state: "cancelled", endReason: "idle_timeout" } }]);
    clock += 20_000;
    expect(await reaper.reapOnce()).toContain(busy.id);
    await store.close();
  });

  test("the killer ends sessions past the limit whatever their activity, then sandboxes nobody ends for it", async () => {
    const { store, ended, runner } = await setUp();
    const young = session({ createdAt: new Date(t0 + 50_000).toISOString() });
    const old = session({ state: "running", prompt: "loop" });
    for (const record of [young, old]) await store.sessions.create(record);
    const deleted: Array<{ id: string; endReason: string | undefined }> = [];
    const sandboxes = {
      delete: async (_principal: unknown, id: string, options: { endReason?: string } = {}) => {
        deleted.push({ id, endReason: options.endReason });
        return undefined as never;
      },
    };
    const killer = createMaxRuntimeKiller({ store, runner, sandboxes, maxRuntimeMs: 60_000, logger: createSilentLogger(), now: () => t0 + 61_000 });
    expect(await killer.killOnce()).toEqual({ sessions: [old.id], sandboxes: [] });
    expect(ended[0]!.ending).toMatchObject({ state: "failed", endReason: "max_runtime", reason: "max_runtime" });
    expect(deleted).toEqual([]);
    await store.close();
  });
});
