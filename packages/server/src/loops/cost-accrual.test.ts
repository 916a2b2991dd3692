import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterEach, describe, expect, test } from "vitest";
import { newID } from "../ids.js";
import { createBudgetService } from "../services/budget-service.js";
import type { SandboxRecord } from "../store/records.js";
import { createSqliteStore } from "../store/sqlite/index.js";
import type { Store } from "../store/store.js";
import { createCostAccrual } from "./cost-accrual.js";

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

async function openStore(filename: string): Promise<Store> {
  const store = createSqliteStore({ filename });
  await store.migrate();
  return store;
}

function sandbox(workspaceID: string, overrides: Partial<SandboxRecord>): SandboxRecord {
  const createdAt = overrides.createdAt ?? "2026-11-25T09:30:00.000Z";
  return {
    id: newID("sbx"),
    workspaceID,
    name: "s",
    state: "ready",
    runtime: "local",
    image: "host",
    network: "none",
    tags: {},
    sealedEnv: "sealed",
    envKeys: [],
    resources: {},
    machine: null,
    failureReason: null,
    failureMessage: null,
    statusMessage: null,
    createdAt,
    updatedAt: createdAt,
    readyAt: createdAt,
    terminatedAt: null,
    userID: "usr_a",
    usdPerHour: 1.2,
    billsPaused: true,
    costUSD: 0,
    meteredSince: createdAt,
    endReason: null,
    ...overrides,
  };
}

describe("cost accrual on a fake clock", () => {
  test("folds by timestamps into hourly rows; a restarted store neither loses nor repeats an interval", async () => {
    const directory = mkdtempSync(path.join(tmpdir(), "ciab-accrual-"));
    directories.push(directory);
    const filename = path.join(directory, "ciab.db");
    let clock = Date.parse("2026-11-25T10:00:00.000Z");
    let store = await openStore(filename);
    await store.workspaces.create({ id: "ws_a", name: "a", createdAt: "2026-11-25T00:00:00.000Z" });
    const record = sandbox("ws_a", {});
    await store.sandboxes.create(record);

    await createCostAccrual(store, () => new Date(clock)).accrueOnce();
    expect((await store.sandboxes.get("ws_a", record.id))!.costUSD).toBeCloseTo(0.6, 10);

    await store.close(); // a restart: only the database remains
    store = await openStore(filename);
    clock = Date.parse("2026-11-25T10:15:00.000Z");
    await createCostAccrual(store, () => new Date(clock)).accrueOnce();
    await createCostAccrual(store, () => new Date(clock)).accrueOnce(); // the same moment twice adds nothing
    const after = (await store.sandboxes.get("ws_a", record.id))!;
    expect(after.costUSD).toBeCloseTo(0.9, 10);
    expect(after.meteredSince).toBe("2026-11-25T10:15:00.000Z");

    const rows = await store.usage.aggregate({ fromHour: "2026-11-25T00", toHour: "2026-11-25T23", limit: 100 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ workspaceID: "ws_a", userID: "usr_a", runtime: "local", day: "2026-11-25", seconds: 2700 });
    expect(await store.usage.workspaceHourCost("ws_a", "2026-11-25T09")).toBeCloseTo(0.6, 10);
    expect(await store.usage.workspaceHourCost("ws_a", "2026-11-25T10")).toBeCloseTo(0.3, 10);

    // The hourly cap counts this hour only: the ledger's part plus the open interval up to now.
    const budget = createBudgetService({ store, maxHourlyUSD: 0.5, now: () => Date.parse("2026-11-25T10:20:00.000Z") });
    expect(await budget.hourlySpend("ws_a")).toBeCloseTo(0.4, 10);
    await budget.checkCap("ws_a");
    const later = createBudgetService({ store, maxHourlyUSD: 0.5, now: () => Date.parse("2026-11-25T10:26:00.000Z") });
    await expect(later.checkCap("ws_a")).rejects.toMatchObject({ code: "cost_cap_reached", status: 429 });
    const nextHour = createBudgetService({ store, maxHourlyUSD: 0.5, now: () => Date.parse("2026-11-25T11:05:00.000Z") });
    expect(await nextHour.hourlySpend("ws_a")).toBeCloseTo(0.1, 10);
    await store.close();
  });

  test("a state change closes the meter where the machine stops billing", async () => {
    const store = await openStore(":memory:");
    await store.workspaces.create({ id: "ws_a", name: "a", createdAt: "2026-11-25T00:00:00.000Z" });
    const since = new Date(Date.now() - 30 * 60_000).toISOString();
    const ec2 = sandbox("ws_a", { runtime: "ec2", billsPaused: false, usdPerHour: 2, createdAt: since, meteredSince: since });
    await store.sandboxes.create(ec2);
    const paused = await store.sandboxes.update(ec2.id, { state: "paused" });
    expect(paused.meteredSince).toBeNull();
    expect(paused.costUSD).toBeCloseTo(1, 2);
    const resumed = await store.sandboxes.update(ec2.id, { state: "ready" });
    expect(resumed.meteredSince).not.toBeNull();
    expect(resumed.costUSD).toBeCloseTo(paused.costUSD, 10);

    const local = sandbox("ws_a", { usdPerHour: 2, createdAt: since, meteredSince: since });
    await store.sandboxes.create(local);
    expect((await store.sandboxes.update(local.id, { state: "paused" })).meteredSince).not.toBeNull();
    const gone = await store.sandboxes.update(local.id, { state: "terminated" });
    expect(gone.meteredSince).toBeNull();
    expect(gone.costUSD).toBeCloseTo(1, 2);
    await store.close();
  });
});
