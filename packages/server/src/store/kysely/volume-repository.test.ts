import { describe, expect, test } from "vitest";
import { newID } from "../../ids.js";
import type { VolumeRecord } from "../records.js";
import { createSqliteStore } from "../sqlite/sqlite-store.js";

describe("volume repository", () => {
  test("scopes to the workspace, claims a volume for one sandbox at a time, deletes only what is not taken", async () => {
    const store = createSqliteStore({ filename: ":memory:" });
    await store.migrate();
    const volume: VolumeRecord = {
      id: newID("vol"),
      workspaceID: "ws_a",
      userID: "usr_a",
      runtime: "docker",
      details: { volumeName: "x" },
      sandboxID: null,
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
    };
    await store.volumes.create(volume);
    expect(await store.volumes.get("ws_b", volume.id)).toBeUndefined();
    expect(await store.volumes.list("ws_a", { userID: "usr_b" })).toEqual([]);
    expect(await store.volumes.list("ws_a", { userID: "usr_a", runtime: "local" })).toEqual([]);

    // Two sandboxes race from the same free state: one wins.
    const claims = await Promise.all([store.volumes.claim(volume.id, null, "sbx_1"), store.volumes.claim(volume.id, null, "sbx_2")]);
    expect(claims.sort()).toEqual([false, true]);
    const holder = (await store.volumes.get("ws_a", volume.id))!.sandboxID!;
    expect(await store.volumes.delete("ws_a", volume.id, null)).toBe(false);
    await store.volumes.release(volume.id, "sbx_other");
    expect((await store.volumes.get("ws_a", volume.id))!.sandboxID).toBe(holder);
    // A later sandbox takes it over from a holder that is gone.
    expect(await store.volumes.claim(volume.id, holder, "sbx_3")).toBe(true);
    expect((await store.volumes.get("ws_a", volume.id))!.lastUsedAt).not.toBeNull();
    await store.volumes.release(volume.id, "sbx_3");
    expect(await store.volumes.delete("ws_a", volume.id, null)).toBe(true);
    expect(await store.volumes.list("ws_a")).toEqual([]);
    await store.close();
  });
});
