import { expect, test } from "vitest";
import type { MakeStore } from "./store-contract.js";
import { tokenRecord, userRecord } from "./fixtures.js";

export function identityContract(fresh: MakeStore): void {
  test("meta keeps the first value; migrate is idempotent", async () => {
    const store = await fresh();
    await store.migrate();
    expect(await store.meta.get("installation_id")).toBeUndefined();
    expect(await store.meta.setIfAbsent("installation_id", "one")).toBe("one");
    expect(await store.meta.setIfAbsent("installation_id", "two")).toBe("one");
    expect(await store.meta.get("installation_id")).toBe("one");
  });

  test("workspaces: unique names, listed oldest first after a cursor", async () => {
    const store = await fresh();
    const now = new Date().toISOString();
    for (const id of ["ws_w1", "ws_w2", "ws_w3"]) await store.workspaces.create({ id, name: `name-${id}`, createdAt: now });
    await expect(store.workspaces.create({ id: "ws_w4", name: "name-ws_w1", createdAt: now })).rejects.toMatchObject({ code: "already_exists" });
    expect(await store.workspaces.get("ws_w4")).toBeUndefined();
    expect(await store.workspaces.get("ws_w2")).toEqual({ id: "ws_w2", name: "name-ws_w2", createdAt: now });
    expect((await store.workspaces.list({ limit: 10 })).map((workspace) => workspace.id)).toEqual(["ws_a", "ws_b", "ws_w1", "ws_w2", "ws_w3"]);
    expect((await store.workspaces.list({ after: "ws_w1", limit: 1 })).map((workspace) => workspace.id)).toEqual(["ws_w2"]);
  });

  test("users: known to exist, listed per workspace without the removed, roles changed", async () => {
    const store = await fresh();
    expect(await store.users.exists()).toBe(false);
    const ada = userRecord("ws_a", { role: "admin", installationAdmin: true });
    const bob = userRecord("ws_a");
    await store.users.create(ada);
    await store.users.create(bob);
    await store.users.create(userRecord("ws_b"));
    expect(await store.users.exists()).toBe(true);
    expect(await store.users.get(ada.id)).toEqual(ada);
    await store.users.setRole(bob.id, "admin");
    expect((await store.users.get(bob.id))!.role).toBe("admin");
    expect((await store.users.list("ws_a")).map((user) => user.id)).toEqual([ada.id, bob.id].sort());
    await store.users.remove(bob.id, new Date().toISOString());
    expect((await store.users.list("ws_a")).map((user) => user.id)).toEqual([ada.id]);
    expect((await store.users.get(bob.id))!.removedAt).not.toBeNull();
  });

  test("tokens: found by hash only while live (not revoked, not expired, user not removed)", async () => {
    const store = await fresh();
    const ada = userRecord("ws_a");
    await store.users.create(ada);
    const now = new Date("2026-11-26T03:00:00Z");
    const live = tokenRecord(ada);
    const expiring = tokenRecord(ada, { expiresAt: "2026-11-26T04:00:00.000Z", role: "member" });
    await store.tokens.create(live);
    await store.tokens.create(expiring);
    expect(await store.tokens.findByHash(live.hash, now)).toEqual({ token: live, user: ada });
    expect((await store.tokens.findByHash(expiring.hash, now))?.token.role).toBe("member");
    expect(await store.tokens.findByHash(expiring.hash, new Date("2026-11-26T04:00:00Z"))).toBeUndefined();
    expect(await store.tokens.findByHash("nope", now)).toBeUndefined();
    expect(await store.tokens.get("ws_b", live.id)).toBeUndefined();
    expect(await store.tokens.get("ws_a", live.id)).toEqual(live);

    await store.tokens.touch(live.id, "2026-11-26T03:01:00.000Z");
    expect((await store.tokens.get("ws_a", live.id))!.lastUsedAt).toBe("2026-11-26T03:01:00.000Z");
    expect((await store.tokens.list("ws_a")).map((token) => token.id).sort()).toEqual([live.id, expiring.id].sort());
    expect(await store.tokens.list("ws_a", { userID: "usr_other" })).toEqual([]);

    await store.tokens.revoke(live.id, now.toISOString());
    expect(await store.tokens.findByHash(live.hash, now)).toBeUndefined();
    expect(await store.tokens.idsOfUser(ada.id)).toEqual([expiring.id]);

    await store.users.remove(ada.id, now.toISOString());
    expect(await store.tokens.findByHash(expiring.hash, now)).toBeUndefined();
    expect(await store.tokens.idsOfUser(ada.id)).toEqual([]);
  });

  test("secrets: replaced in place keeping their creation time, scoped, deleted once", async () => {
    const store = await fresh();
    await store.secrets.put({ workspaceID: "ws_a", name: "B", sealedValue: "1", createdAt: "t1", updatedAt: "t1" });
    await store.secrets.put({ workspaceID: "ws_a", name: "A", sealedValue: "2", createdAt: "t1", updatedAt: "t1" });
    await store.secrets.put({ workspaceID: "ws_a", name: "B", sealedValue: "3", createdAt: "t2", updatedAt: "t2" });
    expect(await store.secrets.get("ws_a", "B")).toEqual({ workspaceID: "ws_a", name: "B", sealedValue: "3", createdAt: "t1", updatedAt: "t2" });
    expect(await store.secrets.get("ws_b", "B")).toBeUndefined();
    expect((await store.secrets.list("ws_a")).map((secret) => secret.name)).toEqual(["A", "B"]);
    expect(await store.secrets.delete("ws_a", "B")).toBe(true);
    expect(await store.secrets.delete("ws_a", "B")).toBe(false);
  });

  test("a second record with the same id is refused", async () => {
    const store = await fresh();
    const ada = userRecord("ws_a");
    await store.users.create(ada);
    await expect(store.users.create(ada)).rejects.toBeInstanceOf(Error);
  });
}
