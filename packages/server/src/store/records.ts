import type { CreateSandboxRequest, Persistence, Resources, RuntimeName, SandboxState, SessionEndReason, SessionState } from "@ciab/protocol";
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
  /** Set when the user was removed from the workspace: their tokens no longer work. */
  removedAt?: string | null;
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
  /** Narrows the user's rights: a `member` token of an admin acts as a member. Null: the user's own role. */
  role?: UserRole | null;
  /** After this instant the token no longer works; null: it does not expire. */
  expiresAt?: string | null;
  /** Written at most once per auth cache period, so it lags real use by a few seconds. */
  lastUsedAt?: string | null;
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
  /** The cloud's own error code when a cloud call failed the sandbox (`InvalidSubnetID.NotFound`). */
  failureAWSCode?: string | null;
  statusMessage: string | null;
  createdAt: string;
  updatedAt: string;
  readyAt: string | null;
  terminatedAt: string | null;
  /** Who asked for it (`system` when nobody did); usage is reported per user. */
  userID: string;
  /** The machine's price; set when the machine is known (an EC2 instance type is priced once launched). */
  usdPerHour: number;
  /** Whether a paused machine still costs (a frozen jail or container holds its host; a stopped EC2 does not). */
  billsPaused: boolean;
  /** Cost folded into the usage ledger so far; the interval since `meteredSince` comes on top. */
  costUSD: number;
  /** Start of the interval not yet folded into `costUSD`; null while the sandbox does not bill. */
  meteredSince: string | null;
  /** Why the budget ended it (`max_runtime`); null otherwise. */
  endReason: string | null;
  /** Life given at each start (ready, resume, set-timeout); `[sandboxes] default_timeout_seconds` by default. */
  timeoutSeconds?: number;
  /** What happens at `expiresAt`: `pause` (falls back to delete where the runtime cannot pause) or `delete`. */
  onTimeout?: SandboxTimeoutAction;
  /** When a ready sandbox times out; null until it is first ready. */
  expiresAt?: string | null;
  /** When a paused sandbox is deleted (`[sandboxes] paused_retention_seconds` after it paused). */
  deleteAfter?: string | null;
  /** What happens to /workspace as it ends; absent means `ephemeral`. */
  persistence?: Persistence;
  /** The volume mounted at /workspace (`persistent-volume`). */
  volumeID?: string | null;
  /** The snapshot taken as it ended (`snapshot-on-idle`). */
  finalSnapshotID?: string | null;
}

export type SandboxTimeoutAction = "pause" | "delete";

/** Fields a caller may change; a state or price change folds the running cost first (store/metering.ts). */
export type SandboxPatch = Partial<
  Pick<
    SandboxRecord,
    | "state"
    | "machine"
    | "failureReason"
    | "failureMessage"
    | "failureAWSCode"
    | "statusMessage"
    | "readyAt"
    | "terminatedAt"
    | "usdPerHour"
    | "endReason"
    | "timeoutSeconds"
    | "expiresAt"
    | "deleteAfter"
    | "finalSnapshotID"
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
  /** Who started it (`system` for sessions from before users were recorded). */
  userID: string;
  endReason: SessionEndReason | null;
  /** Its sandbox's price, copied when the sandbox is known; the session's compute cost comes from it. */
  usdPerHour: number;
  /** Its own sandbox's persistence (a session in an existing sandbox: `ephemeral`); absent means `ephemeral`. */
  persistence?: Persistence;
  /** The snapshot taken as its sandbox ended (`snapshot-on-idle`). */
  finalSnapshotID?: string | null;
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
    | "endReason"
    | "usdPerHour"
    | "finalSnapshotID"
  >
>;

/** A published file (`kind: "file"`, `art_…`) or a work dir tarball (`kind: "snapshot"`, `snap_…`). */
export interface ArtifactRecord {
  id: string;
  kind: "file" | "snapshot";
  workspaceID: string;
  userID: string;
  sessionID: string | null;
  sandboxID: string;
  /** The sandbox path it was published from (files only). */
  path: string | null;
  /** A snapshot's label. */
  label: string | null;
  mime: string;
  description: string | null;
  size: number;
  sha256: string;
  /** Where the bytes are in the artifact store. */
  storageKey: string;
  scanStatus: "clean" | "infected" | "skipped";
  scanSignature: string | null;
  createdAt: string;
}

/**
 * A user's persistent volume (`vol_…`). `details` is the runtime's own handle (a Docker volume name, an EBS
 * volume id), plain JSON. `sandboxID` is the sandbox that mounted it last; it holds the volume while that
 * sandbox is live, and any later sandbox may take it over once that one is gone.
 */
export interface VolumeRecord {
  id: string;
  workspaceID: string;
  userID: string;
  runtime: RuntimeName;
  details: Record<string, unknown>;
  sandboxID: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}
