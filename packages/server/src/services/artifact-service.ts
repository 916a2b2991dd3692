import path from "node:path";
import { CiabError, type Artifact, type PublishArtifactRequest } from "@ciab/protocol";
import type { ArtifactStore } from "../artifacts/artifact-store.js";
import { ByteMeter } from "../artifacts/byte-meter.js";
import { guessMime } from "../artifacts/mime-types.js";
import type { Scanner, ScanTap } from "../artifacts/scanner/scanner.js";
import { streamChain } from "../artifacts/stream-chain.js";
import { newID } from "../ids.js";
import type { Logger } from "../logger.js";
import type { ArtifactRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { resolveSource, storeFailure } from "./artifact-source.js";
import type { Principal } from "./auth-service.js";
import type { DownloadLinks } from "./artifact-downloads.js";
import type { SandboxService } from "./sandbox-service.js";

export interface ArtifactServiceDependencies {
  store: Store;
  artifactStore: ArtifactStore;
  sandboxes: SandboxService;
  downloads: DownloadLinks;
  /** Scans every upload when set (`[artifacts] scan`). */
  scanner?: Scanner | undefined;
  /** `[artifacts] max_bytes`. */
  maxBytes: number;
  logger: Logger;
}

/**
 * Artifacts: files a sandbox publishes, copied from agentd into the artifact store as they stream
 * (hashed, size-bounded, optionally scanned), recorded last, so a failed copy leaves nothing behind.
 */
export function createArtifactService(dependencies: ArtifactServiceDependencies) {
  const { store, artifactStore, sandboxes, downloads } = dependencies;

  async function get(principal: Principal, id: string): Promise<ArtifactRecord> {
    const artifact = await store.artifacts.get(principal.workspaceID, id);
    if (!artifact || artifact.kind !== "file") throw new CiabError("not_found", `no artifact ${id} in this workspace`);
    return artifact;
  }

  /** `caller`: who asks; the download URL is bound to their token. */
  async function view(artifact: ArtifactRecord, caller: Principal, origin: string): Promise<Artifact> {
    const body: Artifact = {
      id: artifact.id,
      path: artifact.path ?? "",
      name: path.posix.basename(artifact.path ?? artifact.id),
      mime: artifact.mime,
      description: artifact.description,
      size: artifact.size,
      sha256: artifact.sha256,
      session_id: artifact.sessionID,
      sandbox_id: artifact.sandboxID,
      user_id: artifact.userID,
      scan: { status: artifact.scanStatus, ...(artifact.scanSignature !== null && { signature: artifact.scanSignature }) },
      created_at: artifact.createdAt,
    };
    // Quarantined artifacts get a URL too: it answers artifact_infected, which says more than no URL.
    const link = await downloads.link(artifact, caller, origin);
    body.download_url = link.url;
    body.download_url_expires_at = link.expiresAt;
    return body;
  }

  return {
    get,
    view,

    async publish(principal: Principal, request: PublishArtifactRequest, signal?: AbortSignal): Promise<ArtifactRecord> {
      const source = await resolveSource(store, principal, { sessionID: request.session_id, sandboxID: request.sandbox_id });
      const id = newID("art");
      const storageKey = `${principal.workspaceID}/${id}`;
      const { meter, tap } = await sandboxes.withAgent(principal, source.sandboxID, async (agent) => {
        const file = await agent.readFile(request.path, signal);
        const meter = new ByteMeter(dependencies.maxBytes);
        let tap: ScanTap | undefined;
        try {
          tap = await dependencies.scanner?.start(signal);
        } catch (error) {
          file.stream.destroy();
          throw error;
        }
        const body = tap ? streamChain(file.stream, meter, tap) : streamChain(file.stream, meter);
        const contentType = request.mime ?? guessMime(request.path);
        await artifactStore.put(storageKey, body, { contentType, signal }).catch((error: unknown) => {
          throw storeFailure(error);
        });
        return { meter, tap };
      });
      const scan = tap?.result;
      const record: ArtifactRecord = {
        id,
        kind: "file",
        workspaceID: principal.workspaceID,
        userID: principal.userID,
        sessionID: source.sessionID,
        sandboxID: source.sandboxID,
        path: path.posix.resolve("/workspace", request.path),
        label: null,
        mime: request.mime ?? guessMime(request.path),
        description: request.description ?? null,
        size: meter.byteCount,
        sha256: meter.sha256,
        storageKey,
        scanStatus: scan?.status ?? "skipped",
        scanSignature: scan?.signature ?? null,
        createdAt: new Date().toISOString(),
      };
      try {
        await store.artifacts.create(record);
      } catch (error) {
        await artifactStore.delete(storageKey).catch(() => undefined);
        throw error;
      }
      if (record.scanStatus === "infected") {
        dependencies.logger.warn({ artifactID: id, signature: record.scanSignature }, "artifact quarantined: the scanner found a virus");
      }
      return record;
    },

    /**
     * The in-sandbox publish, arriving through the gateway with a session's token: it acts as the
     * session's user, on the session's own sandbox only.
     */
    async publishForSession(sessionID: string, request: Omit<PublishArtifactRequest, "session_id" | "sandbox_id">) {
      const session = await store.sessions.getAny(sessionID);
      if (!session || session.userID === null) throw new CiabError("not_found", `no session ${sessionID}`);
      const principal: Principal = { userID: session.userID, workspaceID: session.workspaceID, role: "member", installationAdmin: false, tokenID: "gateway" };
      const record = await this.publish(principal, { ...request, session_id: sessionID });
      return { id: record.id, path: record.path, size: record.size, sha256: record.sha256, mime: record.mime, scan: { status: record.scanStatus, ...(record.scanSignature !== null && { signature: record.scanSignature }) } };
    },

    async list(principal: Principal, filter: { sessionID?: string | undefined; sandboxID?: string | undefined; after?: string | undefined; limit: number }) {
      const records = await store.artifacts.list(principal.workspaceID, { kind: "file", ...filter, limit: filter.limit + 1 });
      const page = records.slice(0, filter.limit);
      return { records: page, next: records.length > filter.limit ? (page.at(-1)?.id ?? null) : null };
    },

    async delete(principal: Principal, id: string): Promise<void> {
      const artifact = await get(principal, id);
      await store.artifacts.delete(principal.workspaceID, id);
      await artifactStore.delete(artifact.storageKey).catch((error: unknown) =>
        dependencies.logger.warn({ artifactID: id, err: String(error) }, "artifact bytes left in the store after delete"),
      );
    },
  };
}

export type ArtifactService = ReturnType<typeof createArtifactService>;
