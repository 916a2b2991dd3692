import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { CiabError } from "@ciab/protocol";
import { newID } from "../ids.js";
import { createSilentLogger } from "../logger.js";
import type { SandboxRecord } from "../store/records.js";
import { createSqliteStore } from "../store/sqlite/index.js";
import type { Store } from "../store/store.js";
import { createSandboxLifetimes } from "./sandbox-lifetimes.js";
import { readySandbox } from "./loop-test-records.js";

const now = Date.parse("2026-11-25T10:00:00.000Z");
const at = (offsetSeconds: number) => new Date(now + offsetSeconds * 1000).toISOString();

function sandbox(overrides: Partial<SandboxRecord>): SandboxRecord {
  return readySandbox("ws_a", at(-600), { timeoutSeconds: 300, onTimeout: "pause", expiresAt: at(-1), deleteAfter: null, ...overrides });
}

/** Plays the sandbox service on the store: the loop's decisions land in rows, as in the real service. */
function recordingSandboxes(store: Store, options: { canPause: boolean }) {
  const calls: string[] = [];
  return {
    calls,
    async pause(_principal: unknown, id: string) {
      calls.push(`pause ${id}`);
      if (!options.canPause) throw new CiabError("capability_unsupported", "cannot pause");
      return store.sandboxes.update(id, { state: "paused", deleteAfter: at(60) });
    },
    async delete(_principal: unknown, id: string, deleteOptions: { endReason?: string } = {}) {
      calls.push(`delete ${id} ${deleteOptions.endReason}`);
      return store.sandboxes.update(id, { state: "terminated", ...(deleteOptions.endReason && { endReason: deleteOptions.endReason }) });
    },
    async extendLife(record: SandboxRecord) {
      calls.push(`extend ${record.id}`);
      return store.sandboxes.update(record.id, { expiresAt: at(300) });
    },
    async startRetention(record: SandboxRecord) {
      calls.push(`retain ${record.id}`);
      return store.sandboxes.update(record.id, { deleteAfter: at(60) });
    },
  };
}

describe("the sandbox lifetime loop", () => {
  const directories: string[] = [];
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });

  test("acts on deadlines kept in the store, in bounded batches, across a restart", async () => {
    const directory = mkdtempSync(path.join(tmpdir(), "ciab-lifetimes-"));
    directories.push(directory);
    const filename = path.join(directory, "ciab.db");
    let store = createSqliteStore({ filename });
    await store.migrate();
    await store.workspaces.create({ id: "ws_a", name: "a", createdAt: at(-600) });
    const expired = sandbox({});
    const deleteOnTimeout = sandbox({ onTimeout: "delete" });
    const pastRetention = sandbox({ state: "paused", expiresAt: null, deleteAfter: at(-1) });
    const fresh = sandbox({ expiresAt: at(100) });
    const legacy = sandbox({ expiresAt: null });
    const held = sandbox({});
    for (const record of [expired, deleteOnTimeout, pastRetention, fresh, legacy, held]) await store.sandboxes.create(record);
    const sessionRow = { id: newID("ses"), sandboxID: held.id, state: "running" as const };
    await store.sessions.create({
      ...sessionRow,
      workspaceID: "ws_a",
      ownsSandbox: false,
      keepSandbox: false,
      provider: "shell",
      prompt: "sleep",
      model: null,
      repo: null,
      sealedRepoURL: null,
      sealedEnv: "sealed",
      envKeys: [],
      sandboxRequest: {},
      exitCode: null,
      failureReason: null,
      failureMessage: null,
      processPID: 1,
      stdoutOffset: 0,
      gatewayTokenHash: null,
      inputTokens: 0,
      outputTokens: 0,
      costUSD: 0,
      createdAt: at(-60),
      updatedAt: at(-60),
      startedAt: at(-60),
      endedAt: null,
      userID: "usr_a",
      endReason: null,
      usdPerHour: 0,
    });

    const first = recordingSandboxes(store, { canPause: true });
    const loop = createSandboxLifetimes({ store, sandboxes: first, batchSize: 3, logger: createSilentLogger(), now: () => now });
    const pass = await loop.checkOnce();
    expect(first.calls).toHaveLength(3); // one bounded batch
    await store.close();

    // A new process on the same store carries on where the first stopped.
    store = createSqliteStore({ filename });
    await store.migrate();
    const second = recordingSandboxes(store, { canPause: false });
    const restarted = createSandboxLifetimes({ store, sandboxes: second, batchSize: 100, logger: createSilentLogger(), now: () => now });
    const rest = await restarted.checkOnce();
    const all = {
      paused: [...pass.paused, ...rest.paused],
      deleted: [...pass.deleted, ...rest.deleted],
      extended: [...pass.extended, ...rest.extended],
    };
    expect(new Set(all.deleted)).toEqual(new Set([deleteOnTimeout.id, pastRetention.id, ...(pass.paused.includes(expired.id) ? [] : [expired.id])]));
    expect(new Set(all.extended)).toEqual(new Set([legacy.id, held.id]));
    expect([...all.paused, ...all.deleted]).not.toContain(fresh.id);
    expect((await store.sandboxes.get("ws_a", pastRetention.id))?.endReason).toBe("retention");
    expect((await store.sandboxes.get("ws_a", deleteOnTimeout.id))?.endReason).toBe("timeout");
    // Nothing is due any more: extended deadlines left the due set.
    expect(await restarted.checkOnce()).toEqual({ paused: [], deleted: [], extended: [] });
    await store.close();
  });

  test("a runtime that cannot pause deletes at the timeout instead", async () => {
    const store = createSqliteStore({ filename: ":memory:" });
    await store.migrate();
    await store.workspaces.create({ id: "ws_a", name: "a", createdAt: at(-600) });
    const record = sandbox({});
    await store.sandboxes.create(record);
    const sandboxes = recordingSandboxes(store, { canPause: false });
    const loop = createSandboxLifetimes({ store, sandboxes, batchSize: 10, logger: createSilentLogger(), now: () => now });
    expect(await loop.checkOnce()).toEqual({ paused: [], deleted: [record.id], extended: [] });
    expect(sandboxes.calls).toEqual([`pause ${record.id}`, `delete ${record.id} timeout`]);
    await store.close();
  });

  test("a full batch of sandboxes that keep failing does not starve a healthy one after them", async () => {
    const store = createSqliteStore({ filename: ":memory:" });
    await store.migrate();
    await store.workspaces.create({ id: "ws_a", name: "a", createdAt: at(-600) });
    const batchSize = 3;
    // The healthy one has the last id: the store lists due sandboxes oldest id first.
    const records = Array.from({ length: 2 * batchSize + 2 }, () => sandbox({ onTimeout: "delete" })).sort((a, b) => (a.id < b.id ? -1 : 1));
    const healthy = records.pop()!;
    const failing = records;
    for (const record of [...failing, healthy]) await store.sandboxes.create(record);
    const failingIDs = new Set(failing.map((record) => record.id));
    const attempts = new Map<string, number>();
    const recording = recordingSandboxes(store, { canPause: true });
    const sandboxes = {
      ...recording,
      async delete(principal: unknown, id: string, options: { endReason?: string } = {}) {
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        if (failingIDs.has(id)) throw new Error("the backend refuses to stop it");
        return recording.delete(principal, id, options);
      },
    };
    let clock = now;
    const loop = createSandboxLifetimes({ store, sandboxes, batchSize, logger: createSilentLogger(), now: () => clock });
    // Every failing sandbox takes one turn and then waits: the healthy one is reached once they all wait.
    const bound = Math.ceil(failing.length / batchSize) + 1;
    let handledOnPass = 0;
    for (let pass = 1; pass <= bound && handledOnPass === 0; pass += 1) {
      if ((await loop.checkOnce()).deleted.includes(healthy.id)) handledOnPass = pass;
      clock += 10_000;
    }
    expect(handledOnPass).toBeGreaterThan(0);
    expect((await store.sandboxes.get("ws_a", healthy.id))?.state).toBe("terminated");
    for (const record of failing) expect(attempts.get(record.id)).toBe(1);
    // Once their wait ends they are tried again.
    clock += 60 * 60_000;
    await loop.checkOnce();
    expect(attempts.get(failing[0]!.id)).toBe(2);
    await store.close();
  });
});
