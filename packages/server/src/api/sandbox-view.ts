import type { Sandbox } from "@ciab/protocol";
import { openCost } from "../store/metering.js";
import type { SandboxRecord } from "../store/records.js";

/**
 * The API's view of a sandbox: snake_case, env values never shown, cost counted up to `nowMs`. Rows from
 * before migration 0009 were given the shipped lifetime defaults (300 s, pause), repeated here.
 */
export function sandboxView(record: SandboxRecord, nowMs = Date.now()): Sandbox {
  return {
    id: record.id,
    name: record.name,
    state: record.state,
    runtime: record.runtime,
    image: record.image,
    network: record.network,
    tags: record.tags,
    env_keys: record.envKeys,
    resources: record.resources,
    failure: record.failureReason
      ? {
          reason: record.failureReason,
          message: record.failureMessage ?? record.failureReason,
          ...(record.failureAWSCode && { aws_code: record.failureAWSCode }),
        }
      : null,
    status_message: record.statusMessage,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    ready_at: record.readyAt,
    cost_usd: record.costUSD + openCost(record.meteredSince, record.usdPerHour, nowMs),
    end_reason: record.endReason,
    timeout_secs: record.timeoutSeconds ?? 300,
    on_timeout: record.onTimeout ?? "pause",
    expires_at: record.state === "ready" ? (record.expiresAt ?? null) : null,
    delete_after: record.state === "paused" ? (record.deleteAfter ?? null) : null,
    persistence: record.persistence ?? "ephemeral",
    volume_id: record.volumeID ?? null,
    final_snapshot_id: record.finalSnapshotID ?? null,
  };
}
