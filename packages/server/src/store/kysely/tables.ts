import type { ApprovalRow, AuditRow } from "./approval-audit-tables.js";
import type { ImageBuildRow, ImageRow } from "./image-repositories.js";

/** Table shapes as Kysely sees them; shared by every SQL dialect. JSON columns are text. */
export interface Tables {
  meta: { key: string; value: string };
  workspaces: { id: string; name: string; created_at: string };
  users: {
    id: string;
    workspace_id: string;
    name: string;
    role: string;
    installation_admin: number;
    created_at: string;
    removed_at: string | null;
  };
  tokens: {
    id: string;
    user_id: string;
    workspace_id: string;
    name: string;
    hash: string;
    created_at: string;
    revoked_at: string | null;
    role: string | null;
    expires_at: string | null;
    last_used_at: string | null;
  };
  sandboxes: SandboxRow;
  secrets: { workspace_id: string; name: string; sealed_value: string; created_at: string; updated_at: string };
  sessions: SessionRow;
  usage_hours: UsageHourRow;
  artifacts: ArtifactRow;
  download_hours: { user_id: string; hour: string; bytes: number };
  volumes: VolumeRow;
  image_builds: ImageBuildRow;
  images: ImageRow;
  events: { session_id: string; seq: number; type: string; data: string; raw: string | null; created_at: string };
  approvals: ApprovalRow;
  audit_entries: AuditRow;
}

export interface SessionRow {
  id: string;
  workspace_id: string;
  sandbox_id: string | null;
  owns_sandbox: number;
  keep_sandbox: number;
  provider: string;
  prompt: string | null;
  model: string | null;
  repo: string | null;
  sealed_repo_url: string | null;
  sealed_env: string;
  env_keys: string;
  sandbox_request: string;
  state: string;
  exit_code: number | null;
  failure_reason: string | null;
  failure_message: string | null;
  process_pid: number | null;
  stdout_offset: number;
  gateway_token_hash: string | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  ended_at: string | null;
  user_id: string | null;
  end_reason: string | null;
  usd_per_hour: number;
  persistence: string;
  final_snapshot_id: string | null;
}

/** Machine time and cost of one sandbox within one clock hour (UTC, `YYYY-MM-DDTHH`). */
export interface UsageHourRow {
  sandbox_id: string;
  hour: string;
  workspace_id: string;
  user_id: string;
  runtime: string;
  seconds: number;
  cost_usd: number;
}

export interface SandboxRow {
  id: string;
  workspace_id: string;
  name: string;
  state: string;
  runtime: string;
  image: string;
  network: string;
  tags: string;
  sealed_env: string;
  env_keys: string;
  resources: string;
  machine: string | null;
  failure_reason: string | null;
  failure_message: string | null;
  failure_aws_code: string | null;
  status_message: string | null;
  created_at: string;
  updated_at: string;
  ready_at: string | null;
  terminated_at: string | null;
  user_id: string | null;
  usd_per_hour: number;
  bills_paused: number;
  cost_usd: number;
  metered_since: string | null;
  end_reason: string | null;
  timeout_seconds: number | null;
  on_timeout: string | null;
  expires_at: string | null;
  delete_after: string | null;
  persistence: string;
  volume_id: string | null;
  final_snapshot_id: string | null;
}

export interface VolumeRow {
  id: string;
  workspace_id: string;
  user_id: string;
  runtime: string;
  details: string;
  sandbox_id: string | null;
  created_at: string;
  last_used_at: string | null;
}

export interface ArtifactRow {
  id: string;
  kind: string;
  workspace_id: string;
  user_id: string;
  session_id: string | null;
  sandbox_id: string;
  path: string | null;
  label: string | null;
  mime: string;
  description: string | null;
  size: number;
  sha256: string;
  storage_key: string;
  scan_status: string;
  scan_signature: string | null;
  created_at: string;
}
