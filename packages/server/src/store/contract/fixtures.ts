import type { SessionEvent } from "@ciab/protocol";
import { newID } from "../../ids.js";
import type { SandboxRecord, SessionRecord, TokenRecord, UserRecord } from "../records.js";

/** Builders of records with every field set, so each store reads back exactly what was written. */
export function sandboxRecord(workspaceID: string, overrides: Partial<SandboxRecord> = {}): SandboxRecord {
  const now = new Date().toISOString();
  return {
    id: newID("sbx"),
    workspaceID,
    name: "s",
    state: "ready",
    runtime: "local",
    image: "host",
    network: "none",
    tags: { team: "a" },
    sealedEnv: "sealed",
    envKeys: ["A"],
    resources: {},
    machine: null,
    failureReason: null,
    failureMessage: null,
    statusMessage: null,
    createdAt: now,
    updatedAt: now,
    readyAt: now,
    terminatedAt: null,
    userID: "usr_a",
    usdPerHour: 0,
    billsPaused: true,
    costUSD: 0,
    meteredSince: null,
    endReason: null,
    persistence: "ephemeral",
    volumeID: null,
    finalSnapshotID: null,
    ...overrides,
  };
}

export function sessionRecord(workspaceID: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = new Date().toISOString();
  return {
    id: newID("ses"),
    workspaceID,
    sandboxID: null,
    ownsSandbox: true,
    keepSandbox: false,
    provider: "claude-code",
    prompt: "hello",
    model: null,
    repo: { url: "https://example.invalid/r.git", ref: "main" },
    sealedRepoURL: null,
    sealedEnv: "sealed",
    envKeys: [],
    sandboxRequest: {},
    state: "pending",
    exitCode: null,
    failureReason: null,
    failureMessage: null,
    processPID: null,
    stdoutOffset: 0,
    gatewayTokenHash: null,
    inputTokens: 0,
    outputTokens: 0,
    costUSD: 0,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    endedAt: null,
    userID: "usr_a",
    endReason: null,
    usdPerHour: 0,
    persistence: "ephemeral",
    finalSnapshotID: null,
    ...overrides,
  };
}

export function userRecord(workspaceID: string, overrides: Partial<UserRecord> = {}): UserRecord {
  return { id: newID("usr"), workspaceID, name: "ada", role: "member", installationAdmin: false, createdAt: new Date().toISOString(), removedAt: null, ...overrides };
}

export function tokenRecord(user: UserRecord, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id: newID("tok"),
    userID: user.id,
    workspaceID: user.workspaceID,
    name: "t",
    hash: newID("tok"),
    createdAt: new Date().toISOString(),
    revokedAt: null,
    role: null,
    expiresAt: null,
    lastUsedAt: null,
    ...overrides,
  };
}

export function events(sessionID: string, from: number, count: number, data: Record<string, unknown> = {}): SessionEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    seq: from + index,
    session_id: sessionID,
    type: "agent.message" as SessionEvent["type"],
    data: { text: `event ${from + index}`, ...data },
    created_at: new Date().toISOString(),
  }));
}
