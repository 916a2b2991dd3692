import type { Session } from "@ciab/protocol";
import type { SessionRecord } from "../store/records.js";

/**
 * The API's view of a session. Its compute cost is its sandbox's price over its life, from creation (its own
 * sandbox starts then) to its end or `nowMs`: timestamps only, so it survives restarts.
 */
export function sessionView(record: SessionRecord, nowMs = Date.now()): Session {
  const endMs = record.endedAt !== null ? Date.parse(record.endedAt) : nowMs;
  const hours = Math.max(0, endMs - Date.parse(record.createdAt)) / 3_600_000;
  return {
    id: record.id,
    provider: record.provider,
    mode: record.prompt !== null ? "headless" : "interactive",
    state: record.state,
    sandbox_id: record.sandboxID,
    owns_sandbox: record.ownsSandbox,
    prompt: record.prompt,
    model: record.model,
    repo: record.repo,
    env_keys: record.envKeys,
    exit_code: record.exitCode,
    failure: record.failureReason ? { reason: record.failureReason, message: record.failureMessage ?? record.failureReason } : null,
    process_pid: record.processPID,
    usage: { input_tokens: record.inputTokens, output_tokens: record.outputTokens, cost_usd: record.costUSD },
    cost_usd: record.usdPerHour * hours,
    end_reason: record.endReason,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    started_at: record.startedAt,
    ended_at: record.endedAt,
    persistence: record.persistence ?? "ephemeral",
    final_snapshot_id: record.finalSnapshotID ?? null,
  };
}
