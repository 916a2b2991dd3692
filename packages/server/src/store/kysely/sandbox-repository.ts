import type { Kysely, Transaction } from "kysely";
import type { Persistence, SandboxState } from "@ciab/protocol";
import { billsIn, sliceByHour } from "../metering.js";
import type { SandboxListFilter, SandboxRepository } from "../store.js";
import type { SandboxPatch, SandboxRecord } from "../records.js";
import type { SandboxRow, Tables } from "./tables.js";
import { addUsageHour } from "./usage-repository.js";

/**
 * Folds the row's open interval up to `now` into the ledger and answers the meter columns to write: the
 * interval restarts at `now` when the sandbox bills in its next state, and closes otherwise.
 */
async function foldMeter(
  trx: Transaction<Tables>,
  row: SandboxRow,
  now: Date,
  next: { state: SandboxState; usdPerHour: number },
): Promise<Pick<SandboxRow, "cost_usd" | "metered_since">> {
  let cost = row.cost_usd;
  if (row.metered_since !== null) {
    for (const slice of sliceByHour(Date.parse(row.metered_since), now.getTime(), row.usd_per_hour)) {
      await addUsageHour(trx, {
        sandbox_id: row.id,
        hour: slice.hour,
        workspace_id: row.workspace_id,
        user_id: row.user_id ?? "system",
        runtime: row.runtime,
        seconds: slice.seconds,
        cost_usd: slice.costUSD,
      });
      cost += slice.costUSD;
    }
  }
  const bills = billsIn(next.state, row.bills_paused === 1);
  return { cost_usd: cost, metered_since: bills ? now.toISOString() : null };
}

export function createSandboxRepository(db: Kysely<Tables>): SandboxRepository {
  const select = (filter: SandboxListFilter = {}) => {
    let query = db.selectFrom("sandboxes").selectAll();
    if (!filter.includeTerminated) query = query.where("state", "!=", "terminated");
    if (filter.states?.length) query = query.where("state", "in", filter.states);
    return query.orderBy("id");
  };
  return {
    async create(record) {
      await db.insertInto("sandboxes").values(toRow(record)).execute();
    },
    async get(workspaceID, id) {
      const row = await db
        .selectFrom("sandboxes")
        .selectAll()
        .where("id", "=", id)
        .where("workspace_id", "=", workspaceID)
        .executeTakeFirst();
      return row && fromRow(row);
    },
    async list(workspaceID, filter) {
      const rows = await select(filter).where("workspace_id", "=", workspaceID).execute();
      return rows.map(fromRow);
    },
    async listAll(filter) {
      return (await select(filter).execute()).map(fromRow);
    },
    async update(id, patch) {
      if (patch.state === undefined && patch.usdPerHour === undefined) {
        const row = await db
          .updateTable("sandboxes")
          .set({ ...toPatchRow(patch), updated_at: new Date().toISOString() })
          .where("id", "=", id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return fromRow(row);
      }
      return db.transaction().execute(async (trx) => {
        const now = new Date();
        const current = await trx.selectFrom("sandboxes").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
        const meter = await foldMeter(trx, current, now, {
          state: patch.state ?? (current.state as SandboxState),
          usdPerHour: patch.usdPerHour ?? current.usd_per_hour,
        });
        const row = await trx
          .updateTable("sandboxes")
          .set({ ...toPatchRow(patch), ...meter, updated_at: now.toISOString() })
          .where("id", "=", id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return fromRow(row);
      });
    },
    async listDue(now, limit) {
      const at = now.toISOString();
      const rows = await db
        .selectFrom("sandboxes")
        .selectAll()
        .where((eb) =>
          eb.or([
            eb.and([eb("state", "=", "ready"), eb.or([eb("expires_at", "is", null), eb("expires_at", "<=", at)])]),
            eb.and([eb("state", "=", "paused"), eb.or([eb("delete_after", "is", null), eb("delete_after", "<=", at)])]),
          ]),
        )
        .orderBy("id")
        .limit(limit)
        .execute();
      return rows.map(fromRow);
    },
    async createAdmitted(record, hour, admit) {
      await db.transaction().execute(async (trx) => {
        // Written first, so the lock is taken before anything is read and every read sees the commits before it.
        await trx.updateTable("workspaces").set((eb) => ({ name: eb.ref("name") })).where("id", "=", record.workspaceID).execute();
        const folded = await trx
          .selectFrom("usage_hours")
          .select((eb) => eb.fn.sum<number | string | null>("cost_usd").as("total"))
          .where("workspace_id", "=", record.workspaceID)
          .where("hour", "=", hour)
          .executeTakeFirst();
        const rows = await trx.selectFrom("sandboxes").selectAll().where("workspace_id", "=", record.workspaceID).where("state", "!=", "terminated").execute();
        admit({ foldedUSD: Number(folded?.total ?? 0), sandboxes: rows.map(fromRow) });
        await trx.insertInto("sandboxes").values(toRow(record)).execute();
      });
    },
    async accrue(id, now = new Date()) {
      return db.transaction().execute(async (trx) => {
        const current = await trx.selectFrom("sandboxes").selectAll().where("id", "=", id).executeTakeFirst();
        if (!current) return undefined;
        if (current.metered_since === null) return fromRow(current);
        const meter = await foldMeter(trx, current, now, { state: current.state as SandboxState, usdPerHour: current.usd_per_hour });
        const row = await trx.updateTable("sandboxes").set(meter).where("id", "=", id).returningAll().executeTakeFirstOrThrow();
        return fromRow(row);
      });
    },
  };
}

function toRow(record: SandboxRecord): SandboxRow {
  return {
    id: record.id,
    workspace_id: record.workspaceID,
    name: record.name,
    state: record.state,
    runtime: record.runtime,
    image: record.image,
    network: record.network,
    tags: JSON.stringify(record.tags),
    sealed_env: record.sealedEnv,
    env_keys: JSON.stringify(record.envKeys),
    resources: JSON.stringify(record.resources),
    machine: record.machine ? JSON.stringify(record.machine) : null,
    failure_reason: record.failureReason,
    failure_message: record.failureMessage,
    failure_aws_code: record.failureAWSCode ?? null,
    status_message: record.statusMessage,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    ready_at: record.readyAt,
    terminated_at: record.terminatedAt,
    user_id: record.userID,
    usd_per_hour: record.usdPerHour,
    bills_paused: record.billsPaused ? 1 : 0,
    cost_usd: record.costUSD,
    metered_since: record.meteredSince,
    end_reason: record.endReason,
    timeout_seconds: record.timeoutSeconds ?? null,
    on_timeout: record.onTimeout ?? null,
    expires_at: record.expiresAt ?? null,
    delete_after: record.deleteAfter ?? null,
    persistence: record.persistence ?? "ephemeral",
    volume_id: record.volumeID ?? null,
    final_snapshot_id: record.finalSnapshotID ?? null,
  };
}

function toPatchRow(patch: SandboxPatch): Partial<SandboxRow> {
  const row: Partial<SandboxRow> = {};
  if (patch.state !== undefined) row.state = patch.state;
  if (patch.machine !== undefined) row.machine = patch.machine ? JSON.stringify(patch.machine) : null;
  if (patch.failureReason !== undefined) row.failure_reason = patch.failureReason;
  if (patch.failureMessage !== undefined) row.failure_message = patch.failureMessage;
  if (patch.failureAWSCode !== undefined) row.failure_aws_code = patch.failureAWSCode;
  if (patch.statusMessage !== undefined) row.status_message = patch.statusMessage;
  if (patch.readyAt !== undefined) row.ready_at = patch.readyAt;
  if (patch.terminatedAt !== undefined) row.terminated_at = patch.terminatedAt;
  if (patch.usdPerHour !== undefined) row.usd_per_hour = patch.usdPerHour;
  if (patch.endReason !== undefined) row.end_reason = patch.endReason;
  if (patch.timeoutSeconds !== undefined) row.timeout_seconds = patch.timeoutSeconds;
  if (patch.expiresAt !== undefined) row.expires_at = patch.expiresAt;
  if (patch.deleteAfter !== undefined) row.delete_after = patch.deleteAfter;
  if (patch.finalSnapshotID !== undefined) row.final_snapshot_id = patch.finalSnapshotID;
  return row;
}

function fromRow(row: SandboxRow): SandboxRecord {
  return {
    id: row.id,
    workspaceID: row.workspace_id,
    name: row.name,
    state: row.state as SandboxRecord["state"],
    runtime: row.runtime as SandboxRecord["runtime"],
    image: row.image,
    network: row.network as SandboxRecord["network"],
    tags: JSON.parse(row.tags) as Record<string, string>,
    sealedEnv: row.sealed_env,
    envKeys: JSON.parse(row.env_keys) as string[],
    resources: JSON.parse(row.resources) as SandboxRecord["resources"],
    machine: row.machine ? (JSON.parse(row.machine) as SandboxRecord["machine"]) : null,
    failureReason: row.failure_reason,
    failureMessage: row.failure_message,
    ...(row.failure_aws_code !== null && { failureAWSCode: row.failure_aws_code }),
    statusMessage: row.status_message,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    readyAt: row.ready_at,
    terminatedAt: row.terminated_at,
    userID: row.user_id ?? "system",
    usdPerHour: row.usd_per_hour,
    billsPaused: row.bills_paused === 1,
    costUSD: row.cost_usd,
    meteredSince: row.metered_since,
    endReason: row.end_reason,
    ...(row.timeout_seconds !== null && { timeoutSeconds: row.timeout_seconds }),
    ...(row.on_timeout !== null && { onTimeout: row.on_timeout === "delete" ? "delete" : "pause" }),
    ...(row.expires_at !== null && { expiresAt: row.expires_at }),
    ...(row.delete_after !== null && { deleteAfter: row.delete_after }),
    persistence: row.persistence as Persistence,
    volumeID: row.volume_id,
    finalSnapshotID: row.final_snapshot_id,
  };
}
