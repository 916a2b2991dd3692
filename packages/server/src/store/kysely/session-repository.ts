import type { Kysely } from "kysely";
import type { SessionRepository } from "../store.js";
import type { SessionPatch, SessionRecord } from "../records.js";
import type { SessionRow, Tables } from "./tables.js";

export function createSessionRepository(db: Kysely<Tables>): SessionRepository {
  return {
    async create(record) {
      await db.insertInto("sessions").values(toRow(record)).execute();
    },
    async get(workspaceID, id) {
      const row = await db.selectFrom("sessions").selectAll().where("id", "=", id).where("workspace_id", "=", workspaceID).executeTakeFirst();
      return row && fromRow(row);
    },
    async getAny(id) {
      const row = await db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
      return row && fromRow(row);
    },
    async list(workspaceID, filter = {}) {
      let query = db.selectFrom("sessions").selectAll().where("workspace_id", "=", workspaceID);
      if (filter.states?.length) query = query.where("state", "in", filter.states);
      return (await query.orderBy("id", "desc").limit(filter.limit ?? 1000).execute()).map(fromRow);
    },
    async listAll(filter = {}) {
      let query = db.selectFrom("sessions").selectAll();
      if (filter.states?.length) query = query.where("state", "in", filter.states);
      return (await query.orderBy("id").execute()).map(fromRow);
    },
    async findByGatewayToken(hash) {
      const row = await db.selectFrom("sessions").selectAll().where("gateway_token_hash", "=", hash).executeTakeFirst();
      return row && fromRow(row);
    },
    async ownerOf(workspaceID, sandboxID) {
      const row = await db
        .selectFrom("sessions")
        .selectAll()
        .where("workspace_id", "=", workspaceID)
        .where("sandbox_id", "=", sandboxID)
        .where("owns_sandbox", "=", 1)
        .executeTakeFirst();
      return row && fromRow(row);
    },
    async update(id, patch) {
      const row = await db
        .updateTable("sessions")
        .set({ ...toPatchRow(patch), updated_at: new Date().toISOString() })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return fromRow(row);
    },
    async addUsage(id, usage) {
      await db
        .updateTable("sessions")
        .set((eb) => ({
          input_tokens: eb("input_tokens", "+", usage.inputTokens),
          output_tokens: eb("output_tokens", "+", usage.outputTokens),
          cost_usd: eb("cost_usd", "+", usage.costUSD),
        }))
        .where("id", "=", id)
        .execute();
    },
  };
}

function toRow(record: SessionRecord): SessionRow {
  return {
    id: record.id,
    workspace_id: record.workspaceID,
    sandbox_id: record.sandboxID,
    owns_sandbox: record.ownsSandbox ? 1 : 0,
    keep_sandbox: record.keepSandbox ? 1 : 0,
    provider: record.provider,
    prompt: record.prompt,
    model: record.model,
    repo: record.repo ? JSON.stringify(record.repo) : null,
    sealed_repo_url: record.sealedRepoURL,
    sealed_env: record.sealedEnv,
    env_keys: JSON.stringify(record.envKeys),
    sandbox_request: JSON.stringify(record.sandboxRequest),
    state: record.state,
    exit_code: record.exitCode,
    failure_reason: record.failureReason,
    failure_message: record.failureMessage,
    process_pid: record.processPID,
    stdout_offset: record.stdoutOffset,
    gateway_token_hash: record.gatewayTokenHash,
    input_tokens: record.inputTokens,
    output_tokens: record.outputTokens,
    cost_usd: record.costUSD,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    started_at: record.startedAt,
    ended_at: record.endedAt,
    user_id: record.userID,
    end_reason: record.endReason,
    usd_per_hour: record.usdPerHour,
    persistence: record.persistence ?? "ephemeral",
    final_snapshot_id: record.finalSnapshotID ?? null,
  };
}

function toPatchRow(patch: SessionPatch): Partial<SessionRow> {
  const keys: Record<keyof SessionPatch, keyof SessionRow> = {
    sandboxID: "sandbox_id",
    state: "state",
    exitCode: "exit_code",
    failureReason: "failure_reason",
    failureMessage: "failure_message",
    processPID: "process_pid",
    stdoutOffset: "stdout_offset",
    gatewayTokenHash: "gateway_token_hash",
    startedAt: "started_at",
    endedAt: "ended_at",
    endReason: "end_reason",
    usdPerHour: "usd_per_hour",
    finalSnapshotID: "final_snapshot_id",
  };
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(keys)) {
    const value = patch[key as keyof SessionPatch];
    if (value !== undefined) row[column] = value;
  }
  return row as Partial<SessionRow>;
}

function fromRow(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    workspaceID: row.workspace_id,
    sandboxID: row.sandbox_id,
    ownsSandbox: row.owns_sandbox === 1,
    keepSandbox: row.keep_sandbox === 1,
    provider: row.provider as SessionRecord["provider"],
    prompt: row.prompt,
    model: row.model,
    repo: row.repo ? (JSON.parse(row.repo) as SessionRecord["repo"]) : null,
    sealedRepoURL: row.sealed_repo_url,
    sealedEnv: row.sealed_env,
    envKeys: JSON.parse(row.env_keys) as string[],
    sandboxRequest: JSON.parse(row.sandbox_request) as SessionRecord["sandboxRequest"],
    state: row.state as SessionRecord["state"],
    exitCode: row.exit_code,
    failureReason: row.failure_reason,
    failureMessage: row.failure_message,
    processPID: row.process_pid,
    stdoutOffset: row.stdout_offset,
    gatewayTokenHash: row.gateway_token_hash,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUSD: row.cost_usd,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    userID: row.user_id ?? "system",
    endReason: row.end_reason as SessionRecord["endReason"],
    usdPerHour: row.usd_per_hour,
    persistence: row.persistence as NonNullable<SessionRecord["persistence"]>,
    finalSnapshotID: row.final_snapshot_id,
  };
}
