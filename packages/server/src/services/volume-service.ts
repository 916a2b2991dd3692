import { CiabError, type RuntimeName, type Volume } from "@ciab/protocol";
import { newID } from "../ids.js";
import type { Logger } from "../logger.js";
import type { Runtime } from "../runtimes/runtime.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { VolumeRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { Principal } from "./auth-service.js";
import { createVolumeHolders, type VolumeHolder } from "./volume-holder.js";

export interface VolumeServiceDependencies {
  store: Store;
  runtimes: RuntimeRegistry;
  logger: Logger;
  /**
   * How long a claim waits for a holder that is ending (its sandbox being deleted, its session over) to free
   * the volume; a live holder is refused at once.
   */
  releaseWaitMs?: number;
  /** The largest volume a request may ask for, in GiB, for a workspace (`[runtime] volume_max_size_gib`). */
  maxSizeGiB?: (workspaceID: string) => number;
}

/** Who a volume is for when a sandbox mounts it: the sandbox's user, in its workspace, on its runtime. */
export interface VolumeRequest {
  workspaceID: string;
  userID: string;
  runtime: Runtime;
  /** A volume the caller named; their first one on the runtime (made now if they have none) otherwise. */
  volumeID?: string | undefined;
  /** The size of a volume made now; a volume that exists keeps its own. */
  sizeGiB?: number | undefined;
}

/** How often a claim looks again at a holder that another replica is ending. */
const releasePollMs = 500;

/**
 * Persistent volumes (docs/decisions/0025-persistence-modes.md). A volume belongs to one user and is mounted
 * by at most one live sandbox: the store's compare-and-set on `sandboxID` decides between racing sandboxes,
 * and a holder that is no longer live (failed, terminated) holds nothing, so a lost release never locks a
 * volume forever.
 */
export function createVolumeService(dependencies: VolumeServiceDependencies) {
  const { store, runtimes, logger } = dependencies;
  const releaseWaitMs = dependencies.releaseWaitMs ?? 60_000;
  const holders = createVolumeHolders(store);

  /**
   * Another workspace's volume, and to a member another user's, is not found: a volume holds one person's
   * files, and whether it exists is theirs to know (a workspace admin sees them all).
   */
  async function get(principal: Principal, id: string): Promise<VolumeRecord> {
    const volume = await store.volumes.get(principal.workspaceID, id);
    if (!volume || (volume.userID !== principal.userID && principal.role !== "admin")) {
      throw new CiabError("not_found", `no volume ${id} in this workspace`);
    }
    return volume;
  }

  /** The live sandbox that has the volume mounted, if any. */
  async function liveHolder(volume: VolumeRecord): Promise<string | null> {
    if (volume.sandboxID === null) return null;
    const sandbox = await store.sandboxes.get(volume.workspaceID, volume.sandboxID);
    return sandbox && sandbox.state !== "terminated" && sandbox.state !== "failed" ? sandbox.id : null;
  }

  /** `sandboxID` undefined: another sandbox took the volume between our look and our claim. */
  function inUse(volume: VolumeRecord, sandboxID?: string): CiabError {
    const holder = sandboxID === undefined ? "another sandbox" : `sandbox ${sandboxID}`;
    return new CiabError("volume_in_use", `volume ${volume.id} is mounted by ${holder}; end that sandbox first`, {
      context: { volume_id: volume.id, ...(sandboxID !== undefined && { sandbox_id: sandboxID }) },
    });
  }

  function stillEnding(volume: VolumeRecord, holder: VolumeHolder): CiabError {
    const seconds = Math.round(releaseWaitMs / 1000);
    const message = `volume ${volume.id} is still mounted by sandbox ${holder.sandboxID} (${holder.ending}) after ${seconds} s; try again once it is gone`;
    return new CiabError("volume_in_use", message, { context: { volume_id: volume.id, sandbox_id: holder.sandboxID } });
  }

  /**
   * Claims the volume for `sandboxID`: at once when nobody holds it, after the holder let go when the holder
   * is ending (bounded by `releaseWaitMs`), never while a live sandbox holds it. The store's compare-and-set
   * decides between racing claims; a lost race is judged again against its winner.
   */
  async function claim(volume: VolumeRecord, sandboxID: string, signal?: AbortSignal): Promise<VolumeRecord> {
    const deadline = Date.now() + releaseWaitMs;
    let current = volume;
    let waiting = false;
    for (;;) {
      if (signal?.aborted) throw new CiabError("conflict", `the claim of volume ${current.id} was abandoned`);
      const holder = await holders.holderOf(current);
      if (holder === null) {
        if (await store.volumes.claim(current.id, current.sandboxID, sandboxID)) return { ...current, sandboxID };
        if (Date.now() >= deadline) throw inUse(current);
      } else {
        if (holder.ending === null) throw inUse(current, holder.sandboxID);
        if (Date.now() >= deadline) throw stillEnding(current, holder);
        if (!waiting) logger.info({ volumeID: current.id, holder: holder.sandboxID, why: holder.ending, sandboxID }, "waiting for an ending sandbox to free the volume");
        waiting = true;
        await holders.untilReleased(current.id, Math.min(releasePollMs, deadline - Date.now()), signal);
      }
      const again = await store.volumes.get(current.workspaceID, current.id);
      if (!again) throw new CiabError("not_found", `volume ${current.id} was deleted`);
      current = again;
    }
  }

  function checkSize(request: VolumeRequest): void {
    if (request.sizeGiB === undefined) return;
    if (!request.runtime.capabilities.volumeSize) {
      throw new CiabError("capability_unsupported", `${request.runtime.name} volumes take their size from the server's config, not from a request`);
    }
    const max = dependencies.maxSizeGiB?.(request.workspaceID) ?? 100;
    if (request.sizeGiB > max) {
      throw new CiabError("invalid_request", `volume_size_gib ${request.sizeGiB} is over this workspace's maximum of ${max} GiB`);
    }
  }

  async function create(request: VolumeRequest): Promise<VolumeRecord> {
    const id = newID("vol");
    const spec = { volumeID: id, workspaceID: request.workspaceID, userID: request.userID, ...(request.sizeGiB !== undefined && { sizeGiB: request.sizeGiB }) };
    const details = await request.runtime.createVolume!(spec, AbortSignal.timeout(300_000));
    const record: VolumeRecord = {
      id,
      workspaceID: request.workspaceID,
      userID: request.userID,
      runtime: request.runtime.name,
      details,
      sandboxID: null,
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
    };
    await store.volumes.create(record);
    logger.info({ volumeID: id, userID: request.userID, runtime: request.runtime.name }, "volume created");
    return record;
  }

  /** The volume the request names (its owner's, on its runtime) or the user's first; undefined: make one. */
  async function find(request: VolumeRequest): Promise<VolumeRecord | undefined> {
    const { runtime } = request;
    if (!runtime.capabilities.volumes || !runtime.createVolume) {
      throw new CiabError("capability_unsupported", `${runtime.name} sandboxes have no persistent volumes`);
    }
    if (request.volumeID === undefined) return (await store.volumes.list(request.workspaceID, { userID: request.userID, runtime: runtime.name }))[0];
    const volume = await store.volumes.get(request.workspaceID, request.volumeID);
    // Only its owner mounts a volume, admins included: anyone else's is not there for them.
    if (!volume || volume.userID !== request.userID) throw new CiabError("not_found", `no volume ${request.volumeID} of yours in this workspace`);
    if (volume.runtime !== runtime.name) {
      throw new CiabError("invalid_request", `volume ${volume.id} is a ${volume.runtime} volume; this sandbox runs on ${runtime.name}`);
    }
    return volume;
  }

  return {
    get,

    list(principal: Principal): Promise<VolumeRecord[]> {
      return store.volumes.list(principal.workspaceID, principal.role === "admin" ? {} : { userID: principal.userID });
    },

    /** Deletes a volume and its data; `volume_in_use` while a live sandbox has it mounted. */
    async delete(principal: Principal, id: string): Promise<void> {
      const volume = await get(principal, id);
      const holder = await liveHolder(volume);
      if (holder !== null) throw inUse(volume, holder);
      // The row goes first, only if nobody claimed the volume meanwhile; it comes back if the runtime fails.
      if (!(await store.volumes.delete(principal.workspaceID, id, volume.sandboxID))) throw inUse(volume);
      try {
        const runtime = runtimes.get(volume.runtime);
        if (!runtime.deleteVolume) throw new CiabError("capability_unsupported", `${runtime.name} cannot delete volumes`);
        await runtime.deleteVolume({ volumeID: id, details: volume.details }, AbortSignal.timeout(120_000));
      } catch (error) {
        await store.volumes.create(volume);
        throw error;
      }
    },

    /**
     * The volume a new sandbox mounts, claimed for it: the checks a mount needs, before anything is made.
     * A holder on its way out is waited for (bounded); a live one is `volume_in_use` at once.
     */
    async acquire(request: VolumeRequest, sandboxID: string, signal?: AbortSignal): Promise<VolumeRecord> {
      checkSize(request);
      const volume = (await find(request)) ?? (await create(request));
      return claim(volume, sandboxID, signal);
    },

    /**
     * What `acquire` would refuse, checked when a session is asked for, before its sandbox is made. A holder
     * that is ending passes: the session's claim waits for it.
     */
    async check(request: VolumeRequest): Promise<void> {
      checkSize(request);
      const volume = await find(request);
      const holder = volume && (await holders.holderOf(volume));
      if (volume && holder && holder.ending === null) throw inUse(volume, holder.sandboxID);
    },

    /** What a create answer says of a size asked for a volume that exists (and keeps its size), if it does. */
    async sizeNote(principal: Principal, request: { runtime?: RuntimeName | undefined; volume?: string | undefined; volume_size_gib?: number | undefined }): Promise<string | undefined> {
      if (request.volume_size_gib === undefined) return undefined;
      // Whatever refuses the request is answered by the create itself; this only words a note.
      const volume = await Promise.resolve()
        .then(() => find({ workspaceID: principal.workspaceID, userID: principal.userID, runtime: runtimes.get(request.runtime ?? runtimes.defaultName), volumeID: request.volume }))
        .catch(() => undefined);
      return volume && `volume_size_gib ignored: volume ${volume.id} exists and keeps its size${sizeOf(volume)}`;
    },

    /** Frees the volume of a sandbox that ended (or never started), and wakes the claims waiting for it. */
    async release(volumeID: string, sandboxID: string): Promise<void> {
      await store.volumes.release(volumeID, sandboxID);
      holders.released(volumeID);
    },

    /** The API's view; `in_use` is decided as mounts are, from the holder's state. */
    async view(volume: VolumeRecord): Promise<Volume> {
      const holder = await liveHolder(volume);
      return {
        id: volume.id,
        runtime: volume.runtime,
        user_id: volume.userID,
        state: holder === null ? "available" : "in_use",
        sandbox_id: holder,
        size_gib: typeof volume.details.sizeGB === "number" ? volume.details.sizeGB : null,
        created_at: volume.createdAt,
        last_used_at: volume.lastUsedAt,
      };
    },
  };
}

function sizeOf(volume: VolumeRecord): string {
  return typeof volume.details.sizeGB === "number" ? ` (${volume.details.sizeGB} GiB)` : "";
}

export type VolumeService = ReturnType<typeof createVolumeService>;
