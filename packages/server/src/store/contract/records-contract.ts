import { expect, test } from "vitest";
import { newID } from "../../ids.js";
import type { ApprovalRecord } from "../approval-audit-records.js";
import type { ArtifactRecord, VolumeRecord } from "../records.js";
import type { ImageBuildRecord } from "../image-records.js";
import type { MakeStore } from "./store-contract.js";

function artifact(workspaceID: string, overrides: Partial<ArtifactRecord> = {}): ArtifactRecord {
  return {
    id: newID("art"),
    kind: "file",
    workspaceID,
    userID: "usr_a",
    sessionID: "ses_1",
    sandboxID: "sbx_1",
    path: "/workspace/a.txt",
    label: null,
    mime: "text/plain",
    description: null,
    size: 3,
    sha256: "abc",
    storageKey: "k",
    scanStatus: "clean",
    scanSignature: null,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

function approval(workspaceID: string, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: newID("apr"),
    workspaceID,
    userID: "usr_a",
    sessionID: "ses_1",
    sandboxID: "sbx_1",
    tool: "write_file",
    summary: "{}",
    argsDigest: "d",
    sealedArgs: "s",
    reason: "outside /workspace",
    state: "pending",
    createdAt: "2026-11-26T03:00:00.000Z",
    expiresAt: "2026-11-26T03:15:00.000Z",
    decidedBy: null,
    decidedAt: null,
    decisionNote: null,
    sealedOutcome: null,
    ...overrides,
  };
}

export function recordsContract(fresh: MakeStore): void {
  test("artifacts: scoped, listed by kind after a cursor with filters, deleted in their workspace only", async () => {
    const store = await fresh();
    const files = [artifact("ws_a"), artifact("ws_a", { sessionID: "ses_2" })].sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const record of files) await store.artifacts.create(record);
    await store.artifacts.create(artifact("ws_a", { kind: "snapshot", label: "l", path: null }));
    expect(await store.artifacts.get("ws_b", files[0]!.id)).toBeUndefined();
    expect(await store.artifacts.get("ws_a", files[0]!.id)).toEqual(files[0]);
    expect(await store.artifacts.getAny(files[0]!.id)).toEqual(files[0]);
    expect(await store.artifacts.list("ws_a", { kind: "file", limit: 10 })).toEqual(files);
    expect(await store.artifacts.list("ws_a", { kind: "file", after: files[0]!.id, limit: 10 })).toEqual([files[1]]);
    expect(await store.artifacts.list("ws_a", { kind: "file", sessionID: "ses_2", limit: 10 })).toHaveLength(1);
    expect(await store.artifacts.list("ws_a", { kind: "snapshot", limit: 10 })).toHaveLength(1);
    expect(await store.artifacts.delete("ws_b", files[0]!.id)).toBe(false);
    expect(await store.artifacts.delete("ws_a", files[0]!.id)).toBe(true);
    expect(await store.artifacts.getAny(files[0]!.id)).toBeUndefined();
  });

  test("downloads: parallel reservations never pass the hourly limit", async () => {
    const store = await fresh();
    const results = await Promise.all(Array.from({ length: 10 }, () => store.downloads.reserve("usr_a", "2026-11-26T03", 30, 100)));
    expect(results.filter(Boolean)).toHaveLength(3);
    expect(await store.downloads.used("usr_a", "2026-11-26T03")).toBe(90);
    expect(await store.downloads.reserve("usr_a", "2026-11-26T03", 10, 100)).toBe(true);
    expect(await store.downloads.reserve("usr_b", "2026-11-26T03", 101, 100)).toBe(false);
    expect(await store.downloads.used("usr_b", "2026-11-26T03")).toBe(0);
  });

  test("approvals: one decision wins; expiry only once due; listed with filters", async () => {
    const store = await fresh();
    const held = approval("ws_a");
    const other = approval("ws_a", { userID: "usr_b" });
    await store.approvals.create(held);
    await store.approvals.create(other);
    expect(await store.approvals.get("ws_b", held.id)).toBeUndefined();
    const now = "2026-11-26T03:01:00.000Z";
    const decisions = await Promise.all([
      store.approvals.decide(held.id, "approved", "usr_admin", now),
      store.approvals.decide(held.id, "denied", "usr_admin2", now),
      store.approvals.decide(held.id, "approved", "usr_admin3", now),
    ]);
    expect(decisions.filter(Boolean)).toHaveLength(1);
    expect(await store.approvals.decide(other.id, "expired", null, now)).toBe(false);
    expect(await store.approvals.decide(other.id, "approved", "usr_admin", "2026-11-26T03:15:00.000Z")).toBe(false);
    expect(await store.approvals.decide(other.id, "expired", null, "2026-11-26T03:15:00.000Z")).toBe(true);
    await store.approvals.setOutcome(held.id, "sealed-result");
    expect((await store.approvals.get("ws_a", held.id))!.sealedOutcome).toBe("sealed-result");
    expect((await store.approvals.list("ws_a", { state: "expired", limit: 10 })).map((record) => record.id)).toEqual([other.id]);
    expect(await store.approvals.list("ws_a", { userID: "usr_b", limit: 10 })).toHaveLength(1);
    expect(await store.approvals.list("ws_a", { limit: 1 })).toHaveLength(1);
  });

  test("approvals: a decision keeps its note as given; one without a note keeps null", async () => {
    const store = await fresh();
    const denied = approval("ws_a");
    const approved = approval("ws_a");
    await store.approvals.create(denied);
    await store.approvals.create(approved);
    const now = "2026-11-26T03:01:00.000Z";
    const note = `no writes to /tmp; use /workspace/out ' " \\ ${"é".repeat(1000)}`;
    expect(await store.approvals.decide(denied.id, "denied", "usr_admin", now, note)).toBe(true);
    expect(await store.approvals.decide(approved.id, "approved", "usr_admin", now)).toBe(true);
    expect(await store.approvals.get("ws_a", denied.id)).toEqual({ ...denied, state: "denied", decidedBy: "usr_admin", decidedAt: now, decisionNote: note });
    expect((await store.approvals.get("ws_a", approved.id))!.decisionNote).toBeNull();
    // A losing decision leaves the winner's note.
    expect(await store.approvals.decide(denied.id, "approved", "usr_other", now, "other")).toBe(false);
    expect((await store.approvals.list("ws_a", { state: "denied", limit: 10 }))[0]!.decisionNote).toBe(note);
  });

  test("audit: appended and listed with filters and a cursor", async () => {
    const store = await fresh();
    const entry = (tool: string, createdAt: string) => ({
      id: newID("aud"),
      workspaceID: "ws_a",
      actor: "usr_a",
      tool,
      sandboxID: "sbx_1",
      sessionID: null,
      argsDigest: "d",
      result: "ok" as const,
      errorCode: null,
      approvalID: null,
      durationMs: 3,
      createdAt,
    });
    const entries = [entry("exec", "2026-11-26T03:00:00.000Z"), entry("write_file", "2026-11-26T03:05:00.000Z")].sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const record of entries) await store.audit.append(record);
    expect(await store.audit.list("ws_a", { limit: 10 })).toEqual(entries);
    expect(await store.audit.list("ws_b", { limit: 10 })).toEqual([]);
    expect(await store.audit.list("ws_a", { tool: "exec", limit: 10 })).toHaveLength(1);
    expect(await store.audit.list("ws_a", { since: "2026-11-26T03:01:00.000Z", limit: 10 })).toHaveLength(1);
    expect(await store.audit.list("ws_a", { after: entries[0]!.id, limit: 10 })).toEqual([entries[1]]);
  });

  test("volumes: scoped, claimed by one sandbox at a time, deleted only when not taken", async () => {
    const store = await fresh();
    const volume: VolumeRecord = {
      id: newID("vol"),
      workspaceID: "ws_a",
      userID: "usr_a",
      runtime: "docker",
      details: { volumeName: "x" },
      sandboxID: null,
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
    };
    await store.volumes.create(volume);
    expect(await store.volumes.get("ws_b", volume.id)).toBeUndefined();
    expect(await store.volumes.get("ws_a", volume.id)).toEqual(volume);
    expect(await store.volumes.list("ws_a", { userID: "usr_b" })).toEqual([]);
    expect(await store.volumes.list("ws_a", { userID: "usr_a", runtime: "local" })).toEqual([]);
    const claims = await Promise.all([store.volumes.claim(volume.id, null, "sbx_1"), store.volumes.claim(volume.id, null, "sbx_2")]);
    expect(claims.sort()).toEqual([false, true]);
    const holder = (await store.volumes.get("ws_a", volume.id))!.sandboxID!;
    expect(await store.volumes.delete("ws_a", volume.id, null)).toBe(false);
    await store.volumes.release(volume.id, "sbx_other");
    expect((await store.volumes.get("ws_a", volume.id))!.sandboxID).toBe(holder);
    expect(await store.volumes.claim(volume.id, holder, "sbx_3")).toBe(true);
    expect((await store.volumes.get("ws_a", volume.id))!.lastUsedAt).not.toBeNull();
    await store.volumes.release(volume.id, "sbx_3");
    expect(await store.volumes.delete("ws_b", volume.id, null)).toBe(false);
    expect(await store.volumes.delete("ws_a", volume.id, null)).toBe(true);
    expect(await store.volumes.list("ws_a")).toEqual([]);
  });

  test("image builds and images: scoped, active builds found by key, listed with filters", async () => {
    const store = await fresh();
    const build: ImageBuildRecord = {
      id: newID("bld"),
      workspaceID: "ws_a",
      userID: "usr_a",
      state: "queued",
      runtime: "docker",
      provider: "docker",
      region: null,
      instanceType: null,
      template: "builtin://agent",
      vars: { a: "b" },
      dedupKey: "k1",
      step: null,
      percent: null,
      imageID: null,
      error: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
    };
    await store.imageBuilds.create(build);
    expect(await store.imageBuilds.get("ws_b", build.id)).toBeUndefined();
    expect(await store.imageBuilds.get("ws_a", build.id)).toEqual(build);
    expect((await store.imageBuilds.findActive("k1"))?.id).toBe(build.id);
    const building = await store.imageBuilds.update(build.id, { state: "building", step: "provision", percent: 40 });
    expect(building).toMatchObject({ state: "building", step: "provision", percent: 40, vars: { a: "b" } });
    expect(await store.imageBuilds.listAll(["building"])).toHaveLength(1);
    await store.imageBuilds.update(build.id, { state: "succeeded", imageID: "img_1" });
    expect(await store.imageBuilds.findActive("k1")).toBeUndefined();
    expect(await store.imageBuilds.listAll(["queued", "building"])).toEqual([]);

    const image = { id: newID("img"), workspaceID: "ws_a", userID: "usr_a", buildID: build.id, runtime: "ec2" as const, provider: "aws", region: "us-east-1", reference: "ami-1", name: "n", createdAt: build.createdAt };
    await store.images.create(image);
    expect(await store.images.get("ws_a", image.id)).toEqual(image);
    expect(await store.images.list("ws_a", { region: "eu-west-1", limit: 10 })).toEqual([]);
    expect(await store.images.list("ws_a", { region: "us-east-1", runtime: "ec2", limit: 10 })).toEqual([image]);
    expect(await store.images.delete("ws_b", image.id)).toBe(false);
    expect(await store.images.delete("ws_a", image.id)).toBe(true);
  });
}
