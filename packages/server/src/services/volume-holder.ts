import { finalSessionStates } from "@ciab/protocol";
import type { VolumeRecord } from "../store/records.js";
import type { Store } from "../store/store.js";

/** The sandbox that holds a volume, and why its hold is about to end (null while it is live and staying). */
export interface VolumeHolder {
  sandboxID: string;
  ending: string | null;
}

/** How long a sandbox that failed is given to destroy what is left of its machine, before its volume is freed. */
export const failedMachineRemovalMs = 60_000;

/**
 * A failed sandbox is recorded as failed before its machine is destroyed and its volume freed: until then
 * the machine may still have the volume mounted. Past this, a volume it still names was lost in a crash.
 */
const failedHoldMs = failedMachineRemovalMs + 30_000;

/**
 * Who holds a volume, judged from the store alone (so every replica judges alike): a sandbox that terminated,
 * or failed a while ago, holds nothing; one being deleted, just failed, or whose session ended and takes it
 * down, is on its way out.
 */
export function createVolumeHolders(store: Store) {
  async function holderOf(volume: VolumeRecord): Promise<VolumeHolder | null> {
    if (volume.sandboxID === null) return null;
    const sandbox = await store.sandboxes.get(volume.workspaceID, volume.sandboxID);
    if (sandbox?.state === "failed" && Date.now() - Date.parse(sandbox.updatedAt) < failedHoldMs) {
      return { sandboxID: sandbox.id, ending: "it failed and its machine is being removed" };
    }
    if (!sandbox || sandbox.state === "terminated" || sandbox.state === "failed") return null;
    if (sandbox.state === "terminating") return { sandboxID: sandbox.id, ending: "it is being deleted" };
    // A session's end is written before its sandbox's deletion starts: the gap a next `ciab run` falls into.
    const owner = await store.sessions.ownerOf(volume.workspaceID, sandbox.id);
    if (owner && !owner.keepSandbox && finalSessionStates.includes(owner.state)) {
      return { sandboxID: sandbox.id, ending: `its session ${owner.id} ended` };
    }
    return { sandboxID: sandbox.id, ending: null };
  }

  /** Wakes the claims waiting on a volume as soon as this process frees it; other replicas' claims poll. */
  const waiting = new Map<string, Set<() => void>>();

  function released(volumeID: string): void {
    for (const wake of waiting.get(volumeID) ?? []) wake();
  }

  /** Resolves when this process frees the volume or after `milliseconds`, whichever comes first. */
  function untilReleased(volumeID: string, milliseconds: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wakers = waiting.get(volumeID) ?? new Set<() => void>();
      waiting.set(volumeID, wakers);
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", wake);
        wakers.delete(wake);
        if (wakers.size === 0) waiting.delete(volumeID);
        resolve();
      };
      const timer = setTimeout(wake, milliseconds);
      signal?.addEventListener("abort", wake, { once: true });
      wakers.add(wake);
    });
  }

  return { holderOf, released, untilReleased };
}
