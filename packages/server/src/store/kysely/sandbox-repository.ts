import type { Kysely } from "kysely";
import type { SandboxListFilter, SandboxRepository } from "../store.js";
import type { SandboxPatch, SandboxRecord } from "../records.js";
import type { SandboxRow, Tables } from "./tables.js";

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
      const row = await db
        .updateTable("sandboxes")
        .set({ ...toPatchRow(patch), updated_at: new Date().toISOString() })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return fromRow(row);
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
    status_message: record.statusMessage,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    ready_at: record.readyAt,
    terminated_at: record.terminatedAt,
  };
}

function toPatchRow(patch: SandboxPatch): Partial<SandboxRow> {
  const row: Partial<SandboxRow> = {};
  if (patch.state !== undefined) row.state = patch.state;
  if (patch.machine !== undefined) row.machine = patch.machine ? JSON.stringify(patch.machine) : null;
  if (patch.failureReason !== undefined) row.failure_reason = patch.failureReason;
  if (patch.failureMessage !== undefined) row.failure_message = patch.failureMessage;
  if (patch.statusMessage !== undefined) row.status_message = patch.statusMessage;
  if (patch.readyAt !== undefined) row.ready_at = patch.readyAt;
  if (patch.terminatedAt !== undefined) row.terminated_at = patch.terminatedAt;
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
    statusMessage: row.status_message,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    readyAt: row.ready_at,
    terminatedAt: row.terminated_at,
  };
}
