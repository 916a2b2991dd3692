import { expect, test } from "vitest";
import { CiabError } from "@ciab/protocol";
import { hourKey } from "../metering.js";
import type { MakeStore } from "./store-contract.js";
import { sandboxRecord } from "./fixtures.js";

export function sandboxContract(fresh: MakeStore): void {
  test("sandboxes: scoped to their workspace, terminated ones filtered, updated with a new updatedAt", async () => {
    const store = await fresh();
    const mine = sandboxRecord("ws_a", { machine: { machineID: "m1", sandboxID: "x", details: { pid: 1 } } });
    await store.sandboxes.create(mine);
    await store.sandboxes.create(sandboxRecord("ws_a", { state: "terminated" }));
    await store.sandboxes.create(sandboxRecord("ws_b"));

    expect(await store.sandboxes.get("ws_b", mine.id)).toBeUndefined();
    expect(await store.sandboxes.get("ws_a", mine.id)).toEqual(mine);
    expect(await store.sandboxes.list("ws_a")).toHaveLength(1);
    expect(await store.sandboxes.list("ws_a", { includeTerminated: true })).toHaveLength(2);
    expect(await store.sandboxes.list("ws_a", { states: ["paused"] })).toHaveLength(0);
    expect(await store.sandboxes.listAll({ states: ["ready"] })).toHaveLength(2);
    expect(await store.sandboxes.listAll({ includeTerminated: true })).toHaveLength(3);

    const updated = await store.sandboxes.update(mine.id, { state: "failed", failureReason: "machine_lost", failureAWSCode: "Gone" });
    expect(updated).toMatchObject({ state: "failed", failureReason: "machine_lost", failureAWSCode: "Gone", tags: { team: "a" } });
    expect(updated.updatedAt >= mine.updatedAt).toBe(true);
    expect(await store.sandboxes.get("ws_a", mine.id)).toEqual(updated);
    expect(await store.sandboxes.listAll({ states: ["ready"] })).toHaveLength(1);
    await expect(store.sandboxes.update("sbx_missing", { statusMessage: "x" })).rejects.toBeInstanceOf(Error);
  });

  test("a state change folds the open interval into the hourly ledger; accrue folds without a change", async () => {
    const store = await fresh();
    const since = new Date(Date.now() - 2 * 3_600_000);
    const sandbox = sandboxRecord("ws_a", { usdPerHour: 3.6, meteredSince: since.toISOString(), billsPaused: false });
    await store.sandboxes.create(sandbox);
    const accrued = (await store.sandboxes.accrue(sandbox.id))!;
    expect(accrued.costUSD).toBeCloseTo(7.2, 2);
    expect(accrued.meteredSince).not.toBeNull();
    const paused = await store.sandboxes.update(sandbox.id, { state: "paused" });
    expect(paused.meteredSince).toBeNull();
    expect(paused.costUSD).toBeCloseTo(7.2, 2);
    expect(await store.sandboxes.accrue("sbx_missing")).toBeUndefined();

    const total = await store.usage.workspaceHourCost("ws_a", hourKey(Date.now()));
    expect(total).toBeGreaterThan(0);
    const rows = await store.usage.aggregate({ fromHour: hourKey(since.getTime()), toHour: hourKey(Date.now()), limit: 10 });
    expect(rows.reduce((sum, row) => sum + row.costUSD, 0)).toBeCloseTo(7.2, 2);
    expect(rows.reduce((sum, row) => sum + row.seconds, 0)).toBeCloseTo(7200, -1);
    expect(rows.every((row) => row.workspaceID === "ws_a" && row.userID === "usr_a" && row.runtime === "local")).toBe(true);
    expect(await store.usage.aggregate({ workspaceID: "ws_b", fromHour: "2000-01-01T00", toHour: "2100-01-01T00", limit: 10 })).toEqual([]);
    const own = await store.usage.aggregate({ workspaceID: "ws_a", fromHour: hourKey(since.getTime()), toHour: hourKey(Date.now()), limit: 10 });
    expect(own.reduce((sum, row) => sum + row.costUSD, 0)).toBeCloseTo(7.2, 2);
  });

  test("listDue: ready past expiry or without one, paused past deleteAfter or without one, oldest first", async () => {
    const store = await fresh();
    const now = new Date("2026-11-26T03:00:00Z");
    const due = [
      sandboxRecord("ws_a", { expiresAt: "2026-11-26T02:00:00.000Z" }),
      sandboxRecord("ws_b", { expiresAt: null }),
      sandboxRecord("ws_a", { state: "paused", deleteAfter: "2026-11-26T03:00:00.000Z" }),
    ];
    for (const record of due) await store.sandboxes.create(record);
    await store.sandboxes.create(sandboxRecord("ws_a", { expiresAt: "2026-11-26T04:00:00.000Z" }));
    await store.sandboxes.create(sandboxRecord("ws_a", { state: "paused", deleteAfter: "2026-11-27T00:00:00.000Z" }));
    await store.sandboxes.create(sandboxRecord("ws_a", { state: "terminated", expiresAt: null }));
    expect((await store.sandboxes.listDue(now, 10)).map((sandbox) => sandbox.id)).toEqual(due.map((sandbox) => sandbox.id).sort());
    expect(await store.sandboxes.listDue(now, 2)).toHaveLength(2);
  });

  test("createAdmitted holds the cap under 12 parallel creates: each judges the spend with every admitted one", async () => {
    const store = await fresh();
    const hour = hourKey(Date.now());
    const cap = 5;
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () =>
        store.sandboxes.createAdmitted(sandboxRecord("ws_a"), hour, (spend) => {
          if (spend.sandboxes.length >= cap) throw new CiabError("cost_cap_reached", "cap");
        }),
      ),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(cap);
    for (const result of results) {
      if (result.status === "rejected") expect(result.reason).toMatchObject({ code: "cost_cap_reached" });
    }
    expect(await store.sandboxes.list("ws_a")).toHaveLength(cap);
    // Terminated sandboxes no longer count; other workspaces never do.
    const [first] = await store.sandboxes.list("ws_a");
    await store.sandboxes.update(first!.id, { state: "terminated" });
    await store.sandboxes.create(sandboxRecord("ws_b"));
    let seen = -1;
    await store.sandboxes.createAdmitted(sandboxRecord("ws_a"), hour, (spend) => {
      seen = spend.sandboxes.length;
      expect(spend.foldedUSD).toBe(0);
    });
    expect(seen).toBe(cap - 1);
  });

  test("concurrent updates of one sandbox lose no field", async () => {
    const store = await fresh();
    const sandbox = sandboxRecord("ws_a");
    await store.sandboxes.create(sandbox);
    await Promise.all([
      store.sandboxes.update(sandbox.id, { statusMessage: "booting" }),
      store.sandboxes.update(sandbox.id, { failureMessage: "none yet" }),
      store.sandboxes.update(sandbox.id, { endReason: "max_runtime" }),
      store.sandboxes.update(sandbox.id, { state: "paused" }),
    ]);
    expect(await store.sandboxes.get("ws_a", sandbox.id)).toMatchObject({
      statusMessage: "booting",
      failureMessage: "none yet",
      endReason: "max_runtime",
      state: "paused",
    });
  });
}
