import type { CreateSandboxRequest, Resources, RuntimeName, SandboxState, SessionState } from "@ciab/protocol";
import type { ProviderName } from "../providers/provider.js";
import type { Machine } from "../runtimes/runtime.js";

/** Rows as services see them: camelCase, JSON already parsed, secrets still sealed. */
export interface WorkspaceRecord {
  id: string;
  name: string;
  createdAt: string;
}

/** A user's role in their own workspace: `admin` administers that workspace, `member` uses it. */
export type UserRole = "admin" | "member";

export interface UserRecord {
  id: string;
  workspaceID: string;
  name: string;
  role: UserRole;
  /** Administers the whole installation (creates workspaces, installation settings), whatever `role` says. */
  installationAdmin: boolean;
  createdAt: string;
}

export interface TokenRecord {
  id: string;
  userID: string;
  workspaceID: string;
  name: string;
  /** sha256 of the token text; the text itself is never stored. */
  hash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface SandboxRecord {
  id: string;
  workspaceID: string;
  name: string;
  state: SandboxState;
  runtime: RuntimeName;
  image: string;
  network: "none" | "host";
  tags: Record<string, string>;
  /** The sandbox's environment, sealed with the data key (it may hold secrets). */
  sealedEnv: string;
  envKeys: string[];
  resources: Resources;
  machine: Machine | null;
  failureReason: string | null;
  failureMessage: string | null;
  statusMessage: string | null;
  createdAt: string;
  updatedAt: string;
  readyAt: string | null;
  terminatedAt: string | null;
}

export type SandboxPatch = Partial<
  Pick<
    SandboxRecord,
    "state" | "machine" | "failureReason" | "failureMessage" | "statusMessage" | "readyAt" | "terminatedAt"
  >
>;

export interface SecretRecord {
  workspaceID: string;
  name: string;
  /** Sealed with the data key; opened only where the value is used (the gateway). */
  sealedValue: string;
  createdAt: string;
  updatedAt: string;
}

export interface SessionRecord {
  id: string;
  workspaceID: string;
  sandboxID: string | null;
  ownsSandbox: boolean;
  keepSandbox: boolean;
  provider: ProviderName;
  prompt: string | null;
  model: string | null;
  /** The repository with any credentials removed from its URL: safe to show and to log. */
  repo: { url: string; ref?: string } | null;
  /** The URL as given (it may carry credentials), sealed; opened only to clone. */
  sealedRepoURL: string | null;
  sealedEnv: string;
  envKeys: string[];
  /** Runtime settings for the session's own sandbox. */
  sandboxRequest: CreateSandboxRequest;
  state: SessionState;
  exitCode: number | null;
  failureReason: string | null;
  failureMessage: string | null;
  processPID: number | null;
  /** Bytes of the agent's stdout already turned into events; a restarted runner resumes here. */
  stdoutOffset: number;
  gatewayTokenHash: string | null;
  inputTokens: number;
  outputTokens: number;
  costUSD: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export type SessionPatch = Partial<
  Pick<
    SessionRecord,
    | "sandboxID"
    | "state"
    | "exitCode"
    | "failureReason"
    | "failureMessage"
    | "processPID"
    | "stdoutOffset"
    | "gatewayTokenHash"
    | "startedAt"
    | "endedAt"
  >
>;
