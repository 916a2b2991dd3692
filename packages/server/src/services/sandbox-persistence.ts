import { CiabError, type CreateSandboxRequest, type Persistence } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import type { SandboxRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { takeFinalSnapshot, type FinalSnapshotOutcome, type SnapshotTaker } from "./final-snapshot.js";
import type { VolumeService } from "./volume-service.js";

/** What the sandbox service is given for persistence modes (docs/decisions/0025-persistence-modes.md). */
export interface PersistenceDependencies {
  /** Persistent volumes; without it, `persistent-volume` is refused. */
  volumes?: Pick<VolumeService, "acquire" | "release">;
  /** The workspace's default persistence (`[runtime] persistence` and its per-workspace override). */
  defaultPersistence?: (workspaceID: string) => Persistence;
  /** Snapshots a `snapshot-on-idle` sandbox as it ends; without it, `snapshot-on-idle` is refused. */
  finalSnapshots?: { take: SnapshotTaker; timeoutMs: number };
}

/** What `delete` is told about the end, for a `snapshot-on-idle` sandbox's last snapshot. */
export interface SandboxEnding {
  /** Why the budget ended it (`max_runtime`, `idle_timeout`), recorded as its end reason. */
  endReason?: string;
  /** What ended it, in the final snapshot's label when there is no end reason (`session_end`). */
  why?: string;
  /** Told how the final snapshot went, before the machine is destroyed. */
  onFinalSnapshot?: (outcome: FinalSnapshotOutcome) => Promise<void>;
}

/** The persistence rules of sandbox creation and deletion, kept apart from the lifecycle itself. */
export function createSandboxPersistence(dependencies: PersistenceDependencies & { store: Store; logger: Logger }) {
  const { store, logger } = dependencies;

  /** The request's persistence or the workspace's default, refused when this server or request cannot serve it. */
  function persistenceOf(workspaceID: string, request: CreateSandboxRequest): Persistence {
    const persistence = request.persistence ?? dependencies.defaultPersistence?.(workspaceID) ?? "ephemeral";
    if ((request.volume !== undefined || request.volume_size_gib !== undefined) && persistence !== "persistent-volume") {
      throw new CiabError("invalid_request", `a volume is mounted with persistence "persistent-volume", not "${persistence}"`);
    }
    if (persistence === "persistent-volume" && request.restore !== undefined) {
      throw new CiabError("invalid_request", "a persistent volume keeps its own files: restore a snapshot into an ephemeral sandbox");
    }
    if (persistence === "persistent-volume" && !dependencies.volumes) throw new CiabError("capability_unsupported", "this server keeps no volumes");
    if (persistence === "snapshot-on-idle" && !dependencies.finalSnapshots) {
      throw new CiabError("capability_unsupported", "this server keeps no snapshots");
    }
    return persistence;
  }

  /** For a ready `snapshot-on-idle` sandbox: its last snapshot's id, or null when it failed; else undefined. */
  async function snapshotBeforeEnd(sandbox: SandboxRecord, ending: SandboxEnding): Promise<string | null | undefined> {
    if (sandbox.persistence !== "snapshot-on-idle" || sandbox.state !== "ready" || !dependencies.finalSnapshots) return undefined;
    const { take, timeoutMs } = dependencies.finalSnapshots;
    await store.sandboxes.update(sandbox.id, { statusMessage: "snapshotting /workspace before it ends" });
    const outcome = await takeFinalSnapshot(take, sandbox, ending.endReason ?? ending.why ?? "deleted", timeoutMs);
    if ("error" in outcome) logger.warn({ sandboxID: sandbox.id, err: outcome.error.message }, "the snapshot before the end failed; ending without it");
    await ending.onFinalSnapshot?.(outcome).catch((error: unknown) => logger.warn({ sandboxID: sandbox.id, err: String(error) }, "recording the final snapshot"));
    return "snapshotID" in outcome ? outcome.snapshotID : null;
  }

  async function releaseVolume(sandbox: SandboxRecord): Promise<void> {
    if (!sandbox.volumeID) return;
    await dependencies.volumes?.release(sandbox.volumeID, sandbox.id).catch((error: unknown) => logger.warn({ sandboxID: sandbox.id, err: String(error) }, "freeing the volume"));
  }

  return { persistenceOf, snapshotBeforeEnd, releaseVolume };
}
