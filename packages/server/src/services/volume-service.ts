import { CiabError, type Volume } from "@ciab/protocol";
import { newID } from "../ids.js";
import type { Logger } from "../logger.js";
import type { Runtime } from "../runtimes/runtime.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { VolumeRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { Principal } from "./auth-service.js";

export interface VolumeServiceDependencies {
  store: Store;
  runtimes: RuntimeRegistry;
  logger: Logger;
}

/** Who a volume is for when a sandbox mounts it: the sandbox's user, in its workspace, on its runtime. */
export interface VolumeRequest {
  workspaceID: string;
  userID: string;
  runtime: Runtime;
  /** A volume the caller named; their first one on the runtime (made now if they have none) otherwise. */
  volumeID?: string | undefined;
}

/**
 * Persistent volumes (docs/decisions/0025-persistence-modes.md). A volume belongs to one user and is mounted
 * by at most one live sandbox: the store's compare-and-set on `sandboxID` decides between racing sandboxes,
 * and a holder that is no longer live (failed, terminated) holds nothing, so a lost release never locks a
 * volume forever.
 */
export function createVolumeService(dependencies: VolumeServiceDependencies) {
  const { store, runtimes, logger } = dependencies;

  /** Another workspace's volume is not found; another user's is forbidden to members (admins see them). */
  async function get(principal: Principal, id: string): Promise<VolumeRecord> {
    const volume = await store.volumes.get(principal.workspaceID, id);
    if (!volume) throw new CiabError("not_found", `no volume ${id} in this workspace`);
    if (volume.userID !== principal.userID && principal.role !== "admin") {
      throw new CiabError("forbidden", `volume ${id} belongs to another user`);
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

  async function create(request: VolumeRequest): Promise<VolumeRecord> {
    const id = newID("vol");
    const details = await request.runtime.createVolume!({ volumeID: id, workspaceID: request.workspaceID, userID: request.userID }, AbortSignal.timeout(300_000));
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
    if (!volume) throw new CiabError("not_found", `no volume ${request.volumeID} in this workspace`);
    if (volume.userID !== request.userID) throw new CiabError("forbidden", `volume ${volume.id} belongs to another user`);
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

    /** The volume a new sandbox mounts, claimed for it: the checks a mount needs, before anything is made. */
    async acquire(request: VolumeRequest, sandboxID: string): Promise<VolumeRecord> {
      const volume = (await find(request)) ?? (await create(request));
      const holder = await liveHolder(volume);
      if (holder !== null) throw inUse(volume, holder);
      if (!(await store.volumes.claim(volume.id, volume.sandboxID, sandboxID))) throw inUse(volume);
      return { ...volume, sandboxID };
    },

    /** What `acquire` would refuse, checked when a session is asked for, before its sandbox is made. */
    async check(request: VolumeRequest): Promise<void> {
      const volume = await find(request);
      const holder = volume && (await liveHolder(volume));
      if (volume && holder) throw inUse(volume, holder);
    },

    /** Frees the volume of a sandbox that ended (or never started). */
    async release(volumeID: string, sandboxID: string): Promise<void> {
      await store.volumes.release(volumeID, sandboxID);
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
        created_at: volume.createdAt,
        last_used_at: volume.lastUsedAt,
      };
    },
  };
}

export type VolumeService = ReturnType<typeof createVolumeService>;
