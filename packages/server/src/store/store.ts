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
  VolumeRecord,
  WorkspaceRecord,
} from "./records.js";
import type { ApprovalRecord, AuditRecord } from "./approval-audit-records.js";
import type { ImageBuildRepository, ImageRepository } from "./image-repositories.js";

/**
 * Persistence behind repositories. Implementations: sqlite/ (default) and dynamodb/ (one table, for the
 * serverless deployment); `store/contract/` is the behaviour both must have.
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
  readonly approvals: ApprovalRepository;
  readonly audit: AuditRepository;
  readonly volumes: VolumeRepository;
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
  /** `already_exists` when another workspace has the name (names are unique). */
  create(record: WorkspaceRecord): Promise<void>;
  get(id: string): Promise<WorkspaceRecord | undefined>;
  /** Oldest first, ids after `after`, at most `limit`. */
  list(filter: { after?: string | undefined; limit: number }): Promise<WorkspaceRecord[]>;
}

export interface UserRepository {
  create(record: UserRecord): Promise<void>;
  /** Removed users too (their records stay for history). */
  get(id: string): Promise<UserRecord | undefined>;
  /** Whether any user was ever created (removed users too): the store reads at most one to say. */
  exists(): Promise<boolean>;
  /** The workspace's users that were not removed, oldest first. */
  list(workspaceID: string): Promise<UserRecord[]>;
  setRole(id: string, role: UserRecord["role"]): Promise<void>;
  /** Marks the user removed and revokes all their tokens, in one transaction. */
  remove(id: string, at: string): Promise<void>;
}

export interface TokenRepository {
  create(record: TokenRecord): Promise<void>;
  /** The live token with that hash (not revoked, not expired at `now`, its user not removed), with its user. */
  findByHash(hash: string, now: Date): Promise<{ token: TokenRecord; user: UserRecord } | undefined>;
  /** Scoped to a workspace: another workspace's id is not found. */
  get(workspaceID: string, id: string): Promise<TokenRecord | undefined>;
  /** Tokens not revoked, of one user or (without `userID`) the whole workspace, oldest first. */
  list(workspaceID: string, filter?: { userID?: string | undefined }): Promise<TokenRecord[]>;
  revoke(id: string, at: string): Promise<void>;
  /** Ids of the live tokens of a user (for closing their open streams when the user is removed). */
  idsOfUser(userID: string): Promise<string[]>;
  touch(id: string, at: string): Promise<void>;
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
  /**
   * Across workspaces, for the lifetime loop: ready sandboxes past `expiresAt` (or with none yet) and paused
   * ones past `deleteAfter` (or with none yet), at most `limit`, oldest id first.
   */
  listDue(now: Date, limit: number): Promise<SandboxRecord[]>;
  /** Folds the open cost interval up to `now` into the ledger; returns the row as it is afterwards. */
  accrue(id: string, now?: Date): Promise<SandboxRecord | undefined>;
  /**
   * Creates the row unless `admit` throws, judged on the workspace's spend as it stands with no other admitted
   * create of the workspace between the judgement and the insert, whichever process makes it: one transaction
   * that starts by writing the workspace's row (SQLite's write lock, a row lock elsewhere).
   */
  createAdmitted(record: SandboxRecord, hour: string, admit: (spend: WorkspaceSpend) => void): Promise<void>;
}

/** What a workspace spends in one clock hour, as the budget judges it. */
export interface WorkspaceSpend {
  /** The ledger's cost of the hour. */
  foldedUSD: number;
  /** The workspace's sandboxes that are not terminated, with their open intervals. */
  sandboxes: SandboxRecord[];
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
  /**
   * The session that made this sandbox for itself (`ownsSandbox`), if any. Sessions made on the same day
   * before the sandbox only: a session makes its sandbox as it starts.
   */
  ownerOf(workspaceID: string, sandboxID: string): Promise<SessionRecord | undefined>;
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

export interface ApprovalListFilter {
  state?: ApprovalRecord["state"] | undefined;
  sessionID?: string | undefined;
  /** Only this requester's approvals. */
  userID?: string | undefined;
  after?: string | undefined;
  limit: number;
}

export interface ApprovalRepository {
  create(record: ApprovalRecord): Promise<void>;
  /** Scoped to a workspace: another workspace's id is not found. */
  get(workspaceID: string, id: string): Promise<ApprovalRecord | undefined>;
  list(workspaceID: string, filter: ApprovalListFilter): Promise<ApprovalRecord[]>;
  /**
   * Moves a pending approval to `state` when it is still pending (and, for approve and deny, not past its
   * expiry at `now`), in one statement; answers whether this call made the move, so only one decision wins.
   * The deciding admin's `note` is written in the same statement, so only the winner's is kept.
   */
  decide(id: string, state: "approved" | "denied" | "expired", decidedBy: string | null, now: string, note?: string | null): Promise<boolean>;
  setOutcome(id: string, sealedOutcome: string): Promise<void>;
}

export interface AuditListFilter {
  sandboxID?: string | undefined;
  sessionID?: string | undefined;
  actor?: string | undefined;
  tool?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  /** Entries after this id (ids sort by time). */
  after?: string | undefined;
  limit: number;
}

export interface AuditRepository {
  append(record: AuditRecord): Promise<void>;
  list(workspaceID: string, filter: AuditListFilter): Promise<AuditRecord[]>;
}

export interface VolumeRepository {
  create(record: VolumeRecord): Promise<void>;
  /** Scoped to a workspace: another workspace's id is not found. */
  get(workspaceID: string, id: string): Promise<VolumeRecord | undefined>;
  /** Oldest first; only `userID`'s when given. */
  list(workspaceID: string, filter?: { userID?: string; runtime?: string }): Promise<VolumeRecord[]>;
  /**
   * Gives the volume to `sandboxID` if it is still held by `holder` (null: by nobody), atomically; returns
   * whether it did. Two sandboxes racing for one volume: one wins.
   */
  claim(id: string, holder: string | null, sandboxID: string): Promise<boolean>;
  /** Frees the volume if `sandboxID` holds it. */
  release(id: string, sandboxID: string): Promise<void>;
  /** Deletes the row if `holder` still holds the volume (null: nobody); returns whether it did. */
  delete(workspaceID: string, id: string, holder: string | null): Promise<boolean>;
}
