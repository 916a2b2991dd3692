import type { Session } from "@ciab/protocol";
import type { SessionRecord } from "../store/records.js";

export function sessionView(record: SessionRecord): Session {
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
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    started_at: record.startedAt,
    ended_at: record.endedAt,
  };
}
