/** Table shapes as Kysely sees them; shared by every SQL dialect. JSON columns are text. */
export interface Tables {
  meta: { key: string; value: string };
  workspaces: { id: string; name: string; created_at: string };
  users: { id: string; workspace_id: string; name: string; role: string; created_at: string };
  tokens: {
    id: string;
    user_id: string;
    workspace_id: string;
    name: string;
    hash: string;
    created_at: string;
    revoked_at: string | null;
  };
  sandboxes: SandboxRow;
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
  status_message: string | null;
  created_at: string;
  updated_at: string;
  ready_at: string | null;
  terminated_at: string | null;
}
