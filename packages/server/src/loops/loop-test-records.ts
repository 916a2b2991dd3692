import { newID } from "../ids.js";
import { sandboxRecord, sessionRecord } from "../store/contract/fixtures.js";
import type { SandboxRecord, SessionRecord } from "../store/records.js";

/** A shell session as the loops meet it: started at `startedAt`, idle, its process alive in its own sandbox. */
export function startedShellSession(workspaceID: string, startedAt: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return sessionRecord(workspaceID, {
    sandboxID: newID("sbx"),
    provider: "shell",
    prompt: null,
    repo: null,
    state: "idle",
    processPID: 7,
    createdAt: startedAt,
    updatedAt: startedAt,
    startedAt,
    ...overrides,
  });
}

/** A sandbox ready since `readyAt`, with no tags or env. */
export function readySandbox(workspaceID: string, readyAt: string, overrides: Partial<SandboxRecord> = {}): SandboxRecord {
  return sandboxRecord(workspaceID, { tags: {}, envKeys: [], createdAt: readyAt, updatedAt: readyAt, readyAt, ...overrides });
}
