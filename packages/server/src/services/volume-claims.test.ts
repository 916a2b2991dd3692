import { CiabError } from "@ciab/protocol";
import { beforeEach, describe, expect, test } from "vitest";
import { newID } from "../ids.js";
import { createSilentLogger } from "../logger.js";
import type { Runtime } from "../runtimes/runtime.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import { sandboxRecord, sessionRecord } from "../store/contract/fixtures.js";
import type { VolumeRecord } from "../store/records.js";
import { createSqliteStore } from "../store/sqlite/sqlite-store.js";
import type { Store } from "../store/store.js";
import { createVolumeService, type VolumeService } from "./volume-service.js";

/** Claims of a volume against the real SQLite store: who waits for a holder, who is refused, who wins. */
describe("volume claims", () => {
  const workspaceID = "ws_a";
  const userID = "usr_a";
  let store: Store;
  let volumes: VolumeService;
  let volume: VolumeRecord;
  const sizes: (number | undefined)[] = [];
  const runtime = {
    name: "local",
    capabilities: { volumes: true, volumeSize: true },
    createVolume: async (spec: { sizeGiB?: number }) => {
      sizes.push(spec.sizeGiB);
      return { sizeGB: spec.sizeGiB ?? 20 };
    },
  } as unknown as Runtime;
  const runtimes = { defaultName: "local", get: () => runtime } as unknown as RuntimeRegistry;
  const request = { workspaceID, userID, runtime };

  async function heldBy(state: "ready" | "terminating", session?: "completed" | "running"): Promise<string> {
    const holder = sandboxRecord(workspaceID, { state, persistence: "persistent-volume", volumeID: volume.id });
    await store.sandboxes.create(holder);
    if (session) await store.sessions.create(sessionRecord(workspaceID, { sandboxID: holder.id, state: session }));
    expect(await store.volumes.claim(volume.id, null, holder.id)).toBe(true);
    return holder.id;
  }

  async function refusal(promise: Promise<unknown>): Promise<CiabError> {
    const error = await promise.then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(CiabError);
    return error as CiabError;
  }

  beforeEach(async () => {
    store = createSqliteStore({ filename: ":memory:" });
    await store.migrate();
    await store.workspaces.create({ id: workspaceID, name: workspaceID, createdAt: new Date().toISOString() });
    volumes = createVolumeService({ store, runtimes, logger: createSilentLogger(), releaseWaitMs: 1_500, maxSizeGiB: () => 50 });
    volume = await volumes.acquire(request, "sbx_first");
    await volumes.release(volume.id, "sbx_first");
    volume = { ...volume, sandboxID: null };
  });

  test("a live holder is refused at once, naming the holder; the session check refuses it too", async () => {
    const holder = await heldBy("ready", "running");
    const started = Date.now();
    const error = await refusal(volumes.acquire(request, newID("sbx")));
    expect([error.code, error.message.includes(holder)]).toEqual(["volume_in_use", true]);
    expect(Date.now() - started).toBeLessThan(500);
    expect((await refusal(volumes.check(request))).code).toBe("volume_in_use");
  });

  test("a holder being deleted is waited for, and the claim wins as soon as this process frees the volume", async () => {
    const holder = await heldBy("terminating");
    await volumes.check(request);
    const claimant = newID("sbx");
    const started = Date.now();
    const claimed = volumes.acquire(request, claimant);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await volumes.release(volume.id, holder);
    expect((await claimed).sandboxID).toBe(claimant);
    // Woken by the release, not by the next look.
    expect(Date.now() - started).toBeLessThan(600);
    expect((await store.volumes.get(workspaceID, volume.id))?.sandboxID).toBe(claimant);
  });

  test("a holder whose session ended is waited for, and another replica's release is seen by looking again", async () => {
    const holder = await heldBy("ready", "completed");
    const claimant = newID("sbx");
    const claimed = volumes.acquire(request, claimant);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Another replica ends the sandbox: nothing in this process is told.
    await store.sandboxes.update(holder, { state: "terminated" });
    expect((await claimed).sandboxID).toBe(claimant);
  });

  test("a holder that just failed may still have the volume mounted: the claim waits for its release; one failed long ago holds nothing", async () => {
    // fail() records the failure before it destroys the machine and frees the volume.
    const failed = sandboxRecord(workspaceID, { state: "failed", persistence: "persistent-volume", volumeID: volume.id });
    await store.sandboxes.create(failed);
    expect(await store.volumes.claim(volume.id, null, failed.id)).toBe(true);
    await volumes.check(request);
    const claimant = newID("sbx");
    const claimed = volumes.acquire(request, claimant);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await store.volumes.get(workspaceID, volume.id))?.sandboxID).toBe(failed.id);
    await volumes.release(volume.id, failed.id);
    expect((await claimed).sandboxID).toBe(claimant);
    await volumes.release(volume.id, claimant);

    // A crash between the failure and the release: the volume is not locked for ever.
    const lost = sandboxRecord(workspaceID, { state: "failed", volumeID: volume.id, updatedAt: new Date(Date.now() - 3_600_000).toISOString() });
    await store.sandboxes.create(lost);
    expect(await store.volumes.claim(volume.id, null, lost.id)).toBe(true);
    const started = Date.now();
    expect((await volumes.acquire(request, newID("sbx"))).sandboxID).not.toBe(lost.id);
    expect(Date.now() - started).toBeLessThan(500);
  });

  test("an ending holder that never lets go is volume_in_use after the bounded wait, saying who and why", async () => {
    const holder = await heldBy("terminating");
    const started = Date.now();
    const error = await refusal(volumes.acquire(request, newID("sbx")));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(error.code).toBe("volume_in_use");
    expect(error.message).toContain(`still mounted by sandbox ${holder} (it is being deleted) after 2 s`);
    expect((await store.volumes.get(workspaceID, volume.id))?.sandboxID).toBe(holder);
  });

  test("claims racing for an ending holder's volume: one wins, the others are refused as soon as it is live", async () => {
    const holder = await heldBy("terminating");
    const claimants = [newID("sbx"), newID("sbx"), newID("sbx")];
    for (const id of claimants) await store.sandboxes.create(sandboxRecord(workspaceID, { id, state: "provisioning" }));
    const claims = claimants.map((id) => volumes.acquire(request, id).then((claimed) => claimed.sandboxID, (error: CiabError) => error.code));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await volumes.release(volume.id, holder);
    const outcomes = await Promise.all(claims);
    expect(outcomes.filter((outcome) => outcome === "volume_in_use")).toHaveLength(2);
    const winner = outcomes.find((outcome) => outcome !== "volume_in_use");
    expect((await store.volumes.get(workspaceID, volume.id))?.sandboxID).toBe(winner);
  });

  test("a size is used when the volume is made, bounded by the maximum, and refused where the runtime cannot size", async () => {
    await store.volumes.delete(workspaceID, volume.id, null);
    expect((await refusal(volumes.acquire({ ...request, sizeGiB: 51 }, newID("sbx")))).code).toBe("invalid_request");
    const principal = { workspaceID, userID, role: "member" } as Parameters<VolumeService["sizeNote"]>[0];
    expect(await volumes.sizeNote(principal, { volume_size_gib: 8 })).toBeUndefined();
    const made = await volumes.acquire({ ...request, sizeGiB: 8 }, newID("sbx"));
    expect([sizes.at(-1), made.details.sizeGB]).toEqual([8, 8]);
    expect(await volumes.sizeNote(principal, { volume_size_gib: 30 })).toBe(`volume_size_gib ignored: volume ${made.id} exists and keeps its size (8 GiB)`);
    const fixed = { ...runtime, capabilities: { volumes: true } } as unknown as Runtime;
    expect((await refusal(volumes.check({ ...request, runtime: fixed, sizeGiB: 8 }))).code).toBe("capability_unsupported");
  });
});
