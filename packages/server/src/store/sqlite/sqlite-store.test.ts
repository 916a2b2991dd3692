import { describe, expect, test } from "vitest";
import { newID } from "../../ids.js";
import type { SandboxRecord } from "../records.js";
import { createSqliteStore } from "./sqlite-store.js";

function sandboxRecord(workspaceID: string, overrides: Partial<SandboxRecord> = {}): SandboxRecord {
  const now = new Date().toISOString();
  return {
    id: newID("sbx"),
    workspaceID,
    name: "s",
    state: "ready",
    runtime: "local",
    image: "host",
    network: "none",
    tags: { team: "a" },
    sealedEnv: "sealed",
    envKeys: ["A"],
    resources: {},
    machine: null,
    failureReason: null,
    failureMessage: null,
    statusMessage: null,
    createdAt: now,
    updatedAt: now,
    readyAt: now,
    terminatedAt: null,
    userID: "usr_a",
    usdPerHour: 0,
    billsPaused: true,
    costUSD: 0,
    meteredSince: null,
    endReason: null,
    persistence: "ephemeral",
    volumeID: null,
    finalSnapshotID: null,
    ...overrides,
  };
}

describe("SQLite store", () => {
  test("migrates, scopes sandboxes to their workspace, filters terminated ones", async () => {
    const store = createSqliteStore({ filename: ":memory:" });
    await store.migrate();
    await store.migrate(); // idempotent
    const now = new Date().toISOString();
    for (const id of ["ws_a", "ws_b"]) await store.workspaces.create({ id, name: id, createdAt: now });
    const mine = sandboxRecord("ws_a", { machine: { machineID: "m1", sandboxID: "x", details: { pid: 1 } } });
    await store.sandboxes.create(mine);
    await store.sandboxes.create(sandboxRecord("ws_a", { state: "terminated" }));
    await store.sandboxes.create(sandboxRecord("ws_b"));

    expect(await store.sandboxes.get("ws_b", mine.id)).toBeUndefined();
    expect(await store.sandboxes.get("ws_a", mine.id)).toEqual(mine);
    expect(await store.sandboxes.list("ws_a")).toHaveLength(1);
    expect(await store.sandboxes.list("ws_a", { includeTerminated: true })).toHaveLength(2);
    expect(await store.sandboxes.listAll({ states: ["ready"] })).toHaveLength(2);

    const updated = await store.sandboxes.update(mine.id, { state: "failed", failureReason: "machine_lost" });
    expect(updated).toMatchObject({ state: "failed", failureReason: "machine_lost", tags: { team: "a" } });
    expect(updated.updatedAt >= mine.updatedAt).toBe(true);
    await store.close();
  });

  test("meta keeps the first value", async () => {
    const store = createSqliteStore({ filename: ":memory:" });
    await store.migrate();
    expect(await store.meta.setIfAbsent("installation_id", "one")).toBe("one");
    expect(await store.meta.setIfAbsent("installation_id", "two")).toBe("one");
    await store.close();
  });
});
