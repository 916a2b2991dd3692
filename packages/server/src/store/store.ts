import type { SandboxState } from "@ciab/protocol";
import type {
  SandboxPatch,
  SandboxRecord,
  TokenRecord,
  UserRecord,
  WorkspaceRecord,
} from "./records.js";

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
  /** Updates and returns the new row; `updatedAt` is set by the store. */
  update(id: string, patch: SandboxPatch): Promise<SandboxRecord>;
}
