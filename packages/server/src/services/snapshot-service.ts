import { CiabError, type Snapshot } from "@ciab/protocol";
import type { AgentClient } from "../agent-channel/agent-client.js";
import type { ArtifactStore } from "../artifacts/artifact-store.js";
import { ByteMeter } from "../artifacts/byte-meter.js";
import { streamChain } from "../artifacts/stream-chain.js";
import { newID } from "../ids.js";
import type { Logger } from "../logger.js";
import type { ArtifactRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { resolveSource, storeFailure } from "./artifact-source.js";
import type { Principal } from "./auth-service.js";

export interface SnapshotServiceDependencies {
  store: Store;
  artifactStore: ArtifactStore;
  /** Runs a call against a ready sandbox's agent (SandboxService.withAgent). */
  withAgent: <T>(principal: Principal, sandboxID: string, call: (agent: AgentClient) => Promise<T>) => Promise<T>;
  /** `[artifacts] max_bytes`: the largest tarball kept. */
  maxBytes: number;
  logger: Logger;
}

/**
 * Snapshots: a gzip tarball of /workspace, made by `tar` inside the sandbox and streamed into the artifact
 * store; restoring one unpacks it inside a new sandbox before it is ready. The control plane only moves
 * bytes (docs/decisions/0017-artifacts.md).
 */
export function createSnapshotService(dependencies: SnapshotServiceDependencies) {
  const { store, artifactStore } = dependencies;

  async function get(workspaceID: string, id: string): Promise<ArtifactRecord> {
    const snapshot = await store.artifacts.get(workspaceID, id);
    if (!snapshot || snapshot.kind !== "snapshot") throw new CiabError("not_found", `no snapshot ${id} in this workspace`);
    return snapshot;
  }

  return {
    get: (principal: Principal, id: string) => get(principal.workspaceID, id),

    async create(
      principal: Principal,
      source: { sessionID?: string | undefined; sandboxID?: string | undefined },
      label: string | undefined,
      signal?: AbortSignal,
    ): Promise<ArtifactRecord> {
      const { sandboxID, sessionID } = await resolveSource(store, principal, source);
      const id = newID("snap");
      const storageKey = `${principal.workspaceID}/${id}`;
      const meter = await dependencies.withAgent(principal, sandboxID, async (agent) => {
        const archive = await agent.packWorkspace(signal);
        const meter = new ByteMeter(dependencies.maxBytes);
        await artifactStore.put(storageKey, streamChain(archive, meter), { contentType: "application/gzip", signal }).catch((error: unknown) => {
          throw storeFailure(error);
        });
        return meter;
      });
      const record: ArtifactRecord = {
        id,
        kind: "snapshot",
        workspaceID: principal.workspaceID,
        userID: principal.userID,
        sessionID,
        sandboxID,
        path: "/workspace",
        label: label ?? null,
        mime: "application/gzip",
        description: null,
        size: meter.byteCount,
        sha256: meter.sha256,
        storageKey,
        scanStatus: "skipped",
        scanSignature: null,
        createdAt: new Date().toISOString(),
      };
      try {
        await store.artifacts.create(record);
      } catch (error) {
        await artifactStore.delete(storageKey).catch(() => undefined);
        throw error;
      }
      return record;
    },

    async list(principal: Principal, filter: { sessionID?: string | undefined; sandboxID?: string | undefined; after?: string | undefined; limit: number }) {
      const records = await store.artifacts.list(principal.workspaceID, { kind: "snapshot", ...filter, limit: filter.limit + 1 });
      const page = records.slice(0, filter.limit);
      return { records: page, next: records.length > filter.limit ? (page.at(-1)?.id ?? null) : null };
    },

    async delete(principal: Principal, id: string): Promise<void> {
      const snapshot = await get(principal.workspaceID, id);
      await store.artifacts.delete(principal.workspaceID, id);
      await artifactStore.delete(snapshot.storageKey).catch((error: unknown) =>
        dependencies.logger.warn({ snapshotID: id, err: String(error) }, "snapshot bytes left in the store after delete"),
      );
    },

    /** Throws `not_found` unless the workspace has this snapshot: checked before a sandbox is made for it. */
    async check(workspaceID: string, id: string): Promise<void> {
      await get(workspaceID, id);
    },

    /** Unpacks the snapshot into a new sandbox's /workspace through its agent. */
    async restore(workspaceID: string, id: string, agent: AgentClient, signal?: AbortSignal): Promise<void> {
      const snapshot = await get(workspaceID, id);
      const body = await artifactStore.open(snapshot.storageKey, signal).catch((error: unknown) => {
        throw storeFailure(error);
      });
      try {
        await agent.unpackWorkspace(body, signal);
      } finally {
        body.destroy();
      }
    },
  };
}

export type SnapshotService = ReturnType<typeof createSnapshotService>;

export function snapshotView(record: ArtifactRecord): Snapshot {
  return {
    id: record.id,
    label: record.label,
    size: record.size,
    sha256: record.sha256,
    session_id: record.sessionID,
    sandbox_id: record.sandboxID,
    user_id: record.userID,
    created_at: record.createdAt,
  };
}
