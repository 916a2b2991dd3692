import type { Resources, RuntimeName, SandboxState } from "@ciab/protocol";
import type { Machine } from "../runtimes/runtime.js";

/** Rows as services see them: camelCase, JSON already parsed, secrets still sealed. */
export interface WorkspaceRecord {
  id: string;
  name: string;
  createdAt: string;
}

export type UserRole = "admin" | "member";

export interface UserRecord {
  id: string;
  workspaceID: string;
  name: string;
  role: UserRole;
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
