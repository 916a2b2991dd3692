import type { CreateSandboxRequest } from "@ciab/protocol";
import type { SandboxRecord } from "../../store/records.js";

/**
 * E2B sandboxes are ciab sandboxes under the same id (`sbx_…`); nothing of E2B's is stored. Templates map
 * onto images: a built image of ours (`img_…`) is that image; `base` and any other template name boot the
 * runtime's default image, and read back as `base`.
 */
export const defaultTemplate = "base";

/** What envd version we answer as: 0.5.7 has octet-stream uploads and closeStdin; file metadata (0.6.2) is refused by the SDK itself. */
export const envdVersion = "0.5.7";

export function imageOfTemplate(templateID: string): string | undefined {
  return templateID.startsWith("img_") ? templateID : undefined;
}

export function templateOf(record: SandboxRecord): string {
  return record.image.startsWith("img_") ? record.image : defaultTemplate;
}

export interface E2BCreateBody {
  templateID: string;
  metadata?: Record<string, string> | undefined;
  envVars?: Record<string, string> | undefined;
  timeout?: number | undefined;
  autoPause?: boolean | undefined;
}

/** E2B's create body as ours: metadata are tags, a timeout kills unless `autoPause` asks to pause. */
export function createRequestOf(body: E2BCreateBody): CreateSandboxRequest {
  const image = imageOfTemplate(body.templateID);
  return {
    ...(image !== undefined && { image }),
    ...(body.metadata && Object.keys(body.metadata).length > 0 && { tags: body.metadata }),
    ...(body.envVars && Object.keys(body.envVars).length > 0 && { env: body.envVars }),
    ...(body.timeout !== undefined && { timeout_secs: body.timeout }),
    on_timeout: body.autoPause ? "pause" : "delete",
  };
}

/** Live sandboxes only: a terminated or failed one is not found, as on E2B once killed. */
export function e2bState(record: SandboxRecord): "running" | "paused" | undefined {
  if (record.state === "paused") return "paused";
  if (record.state === "ready" || record.state === "pending" || record.state === "provisioning") return "running";
  return undefined;
}

/** `GET /sandboxes/{id}` and the items of `GET /v2/sandboxes`. */
export function sandboxDetail(record: SandboxRecord, state: "running" | "paused") {
  const startedAt = record.readyAt ?? record.createdAt;
  const endAt = record.expiresAt ?? record.deleteAfter ?? new Date(Date.parse(startedAt) + (record.timeoutSeconds ?? 300) * 1000).toISOString();
  return {
    templateID: templateOf(record),
    alias: record.name,
    sandboxID: record.id,
    clientID: "ciab",
    startedAt,
    endAt,
    envdVersion,
    cpuCount: Math.max(1, Math.round(record.resources.cpus ?? 1)),
    memoryMB: record.resources.memory_mb ?? 0,
    diskSizeMB: 0,
    metadata: record.tags,
    state,
  };
}

/** What create and connect answer: the sandbox and its envd access token. */
export function sandboxHandle(record: SandboxRecord, envdAccessToken: string) {
  return { templateID: templateOf(record), sandboxID: record.id, alias: record.name, clientID: "ciab", envdVersion, envdAccessToken, domain: null };
}
