import { randomBytes } from "node:crypto";
import { createBudgetService } from "../../packages/server/src/services/budget-service.js";
import type { SandboxRecord } from "../../packages/server/src/store/records.js";
import type { Store } from "../../packages/server/src/store/store.js";
import { createSqliteStore } from "../../packages/server/src/store/sqlite/sqlite-store.js";

/** A provisioning sandbox of `workspaceID` at `usdPerHour`, made now. */
export function newSandboxRecord(workspaceID: string, usdPerHour: number): SandboxRecord {
  const now = new Date().toISOString();
  const id = `sbx_${randomBytes(8).toString("hex")}`;
  return {
    id,
    workspaceID,
    name: id,
    state: "provisioning",
    runtime: "ec2",
    image: "ami-1",
    network: "none",
    tags: {},
    sealedEnv: "",
    envKeys: [],
    resources: {},
    machine: null,
    failureReason: null,
    failureMessage: null,
    statusMessage: null,
    createdAt: now,
    updatedAt: now,
    readyAt: null,
    terminatedAt: null,
    userID: "usr_a",
    usdPerHour,
    billsPaused: false,
    costUSD: 0,
    meteredSince: now,
    endReason: null,
  };
}

/** Admits `count` sandboxes at once through a budget of its own over `store`; answers how many got in. */
export async function admitInParallel(store: Store, options: { workspaceID: string; count: number; capUSD: number; usdPerHour: number }): Promise<number> {
  const budget = createBudgetService({ store, maxHourlyUSD: options.capUSD });
  const results = await Promise.allSettled(
    Array.from({ length: options.count }, () => budget.admit(newSandboxRecord(options.workspaceID, options.usdPerHour))),
  );
  for (const result of results) {
    if (result.status === "rejected" && (result.reason as { code?: string }).code !== "cost_cap_reached") throw result.reason;
  }
  return results.filter((result) => result.status === "fulfilled").length;
}

// Run as a process of its own: `node --import tsx cap-admission.ts DB WORKSPACE COUNT CAP PRICE` prints how many got in.
if (process.argv[1]?.endsWith("cap-admission.ts") && process.argv.length === 7) {
  const [filename, workspaceID, count, capUSD, usdPerHour] = process.argv.slice(2) as [string, string, string, string, string];
  const store = createSqliteStore({ filename });
  const admitted = await admitInParallel(store, { workspaceID, count: Number(count), capUSD: Number(capUSD), usdPerHour: Number(usdPerHour) });
  await store.close();
  process.stdout.write(`${admitted}\n`);
}
