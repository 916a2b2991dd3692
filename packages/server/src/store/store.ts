import type { SandboxState, SessionEvent, SessionState } from "@ciab/protocol";
import type {
  ArtifactRecord,
  SecretRecord,
  SessionPatch,
  SessionRecord,
  SandboxPatch,
  SandboxRecord,
  TokenRecord,
  UserRecord,
  WorkspaceRecord,
} from "./records.js";
import type { ImageBuildRepository, ImageRepository } from "./image-repositories.js";

/**
 * Persistence behind repositories. Implementations: sqlite/ (default), postgres/ and dynamodb/ later.
 * Nothing outside an implementation's folder knows which database it talks to.
 */
export interface Store {
  readonly meta: MetaRepository;
  readonly workspaces: WorkspaceRepository;
  readonly users: UserRepository;
  readonly tokens: TokenRepository;
  readonly sandboxes: SandboxRepository;
  readonly secrets: SecretRepository;
  readonly sessions: SessionRepository;
  readonly events: EventRepository;
  readonly usage: UsageRepository;
  readonly artifacts: ArtifactRepository;
  readonly downloads: DownloadRepository;
  readonly imageBuilds: ImageBuildRepository;
  readonly images: ImageRepository;
  /** Runs pending migrations; called once at start-up. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** Installation-wide values (the installation id, schema facts). */
export interface MetaRepository {
  get(key: string): Promise<string | undefined>;
  /** Sets the value only when the key has none; returns the value that is stored afterwards. */
  setIfAbsent(key: string, value: string): Promise<string>;
}

export interface WorkspaceRepository {
  create(record: WorkspaceRecord): Promise<void>;
  get(id: string): Promise<WorkspaceRecord | undefined>;
}

export interface UserRepository {
  create(record: UserRecord): Promise<void>;
  get(id: string): Promise<UserRecord | undefined>;
  count(): Promise<number>;
}

export interface TokenRepository {
  create(record: TokenRecord): Promise<void>;
  /** The live (not revoked) token with that hash, with its user. */
  findByHash(hash: string): Promise<{ token: TokenRecord; user: UserRecord } | undefined>;
}

export interface SandboxListFilter {
  includeTerminated?: boolean;
  states?: SandboxState[];
}

export interface SandboxRepository {
  create(record: SandboxRecord): Promise<void>;
  /** Scoped to a workspace: another workspace's id is not found. */
  get(workspaceID: string, id: string): Promise<SandboxRecord | undefined>;
  list(workspaceID: string, filter?: SandboxListFilter): Promise<SandboxRecord[]>;
  /** Across workspaces, for background loops only. */
  listAll(filter?: SandboxListFilter): Promise<SandboxRecord[]>;
  /**
   * Updates and returns the new row; `updatedAt` is set by the store. A change of state or price first folds
   * the open cost interval into the usage ledger, in the same transaction (store/metering.ts).
   */
  update(id: string, patch: SandboxPatch): Promise<SandboxRecord>;
  /** Folds the open cost interval up to `now` into the ledger; returns the row as it is afterwards. */
  accrue(id: string, now?: Date): Promise<SandboxRecord | undefined>;
}

/** The hourly usage ledger (`usage_hours`), written by the sandbox repository as it folds intervals. */
export interface UsageRepository {
  /** Folded cost of a workspace's sandboxes within one clock hour (`YYYY-MM-DDTHH`). */
  workspaceHourCost(workspaceID: string, hour: string): Promise<number>;
  /** Sums per workspace, user, runtime and day over hours in [fromHour, toHour]; at most `limit` rows. */
  aggregate(filter: { workspaceID?: string; fromHour: string; toHour: string; limit: number }): Promise<UsageAggregate[]>;
}

export interface UsageAggregate {
  workspaceID: string;
  userID: string;
  runtime: string;
  day: string;
  seconds: number;
  costUSD: number;
}

export interface SecretRepository {
  /** Creates or replaces. */
  put(record: SecretRecord): Promise<void>;
  get(workspaceID: string, name: string): Promise<SecretRecord | undefined>;
  list(workspaceID: string): Promise<SecretRecord[]>;
  delete(workspaceID: string, name: string): Promise<boolean>;
}

export interface SessionRepository {
  create(record: SessionRecord): Promise<void>;
  get(workspaceID: string, id: string): Promise<SessionRecord | undefined>;
  /** Across workspaces, for the runner and the gateway only. */
  getAny(id: string): Promise<SessionRecord | undefined>;
  list(workspaceID: string, filter?: { states?: SessionState[]; limit?: number }): Promise<SessionRecord[]>;
  listAll(filter?: { states?: SessionState[] }): Promise<SessionRecord[]>;
  findByGatewayToken(hash: string): Promise<SessionRecord | undefined>;
  update(id: string, patch: SessionPatch): Promise<SessionRecord>;
  addUsage(id: string, usage: { inputTokens: number; outputTokens: number; costUSD: number }): Promise<void>;
}

export interface EventRepository {
  /**
   * Appends numbered events, and moves the session's stdout offset in the same transaction, so a
   * restarted runner neither loses nor repeats an event.
   */
  append(events: SessionEvent[], sessionPatch?: { sessionID: string; stdoutOffset: number }): Promise<void>;
  /** Events with seq > after, in order. */
  list(sessionID: string, after: number, limit: number): Promise<SessionEvent[]>;
  lastSeq(sessionID: string): Promise<number>;
}

export interface ArtifactListFilter {
  kind: ArtifactRecord["kind"];
  sessionID?: string | undefined;
  sandboxID?: string | undefined;
  /** Ids after this one (ids sort by creation time). */
  after?: string | undefined;
  limit: number;
}

export interface ArtifactRepository {
  create(record: ArtifactRecord): Promise<void>;
  /** Scoped to a workspace: another workspace's id is not found. */
  get(workspaceID: string, id: string): Promise<ArtifactRecord | undefined>;
  /** For signed downloads, which carry no workspace. */
  getAny(id: string): Promise<ArtifactRecord | undefined>;
  list(workspaceID: string, filter: ArtifactListFilter): Promise<ArtifactRecord[]>;
  delete(workspaceID: string, id: string): Promise<boolean>;
}

/** Bytes downloaded per user and clock hour (`YYYY-MM-DDTHH`), kept in the store so restarts keep counting. */
export interface DownloadRepository {
  /**
   * Adds `bytes` to the user's hour when the total stays within `limit`, atomically; returns whether it
   * was added.
   */
  reserve(userID: string, hour: string, bytes: number, limit: number): Promise<boolean>;
  used(userID: string, hour: string): Promise<number>;
}
