import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createSqliteStore } from "../../packages/server/src/store/sqlite/sqlite-store.js";
import type { Store } from "../../packages/server/src/store/store.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/**
 * A volume claim waiting for an ending holder (docs/decisions/0044) whose session is cancelled, or whose
 * client goes away, stops waiting: it never makes a sandbox that would mount the volume, and hold it against
 * the user's next run, once the holder is gone.
 */
describe("a volume claim waiting for an ending holder", () => {
  let server: TestServer;
  let store: Store;

  beforeAll(async () => {
    server = await startTestServer({ env: { CIAB_RUNTIME_VOLUME_RELEASE_WAIT_SECONDS: "20" } });
    // A second connection to the server's own SQLite file: another replica, whose delete of the holder is slow.
    store = createSqliteStore({ filename: path.join(server.dataDirectory, "ciab.db") });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await server?.close();
  });

  test("is abandoned at once when its session is cancelled, and the volume goes to nobody", async () => {
    const holder = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume" });
    expect(holder.status, JSON.stringify(holder.body)).toBe(201);
    const volumeID = holder.body.volume_id as string;
    await store.sandboxes.update(holder.body.id, { state: "terminating" });

    const created = await server.api("POST", "/sessions", { provider: "shell", runtime: "local", prompt: "true", persistence: "persistent-volume" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // The runner's claim is waiting for the holder.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const started = Date.now();
    expect((await server.api("POST", `/sessions/${created.body.id}/cancel`)).status).toBe(200);
    let session = created.body;
    while (session.state !== "cancelled" && Date.now() - started < 15_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      session = (await server.api("GET", `/sessions/${created.body.id}`)).body;
    }
    expect(session.state).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(5_000);

    // The holder goes: the cancelled session's claim, had it kept waiting, would take the volume now.
    await store.sandboxes.update(holder.body.id, { state: "ready" });
    expect((await server.api("DELETE", `/sandboxes/${holder.body.id}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await server.api("GET", `/volumes/${volumeID}`)).body).toMatchObject({ state: "available", sandbox_id: null });
    const sandboxes = (await server.api("GET", "/sandboxes?all=true")).body.sandboxes as { id: string }[];
    expect(sandboxes.map((sandbox) => sandbox.id)).toEqual([holder.body.id]);
    expect((await server.api("DELETE", `/volumes/${volumeID}`)).status).toBe(200);
  }, 60_000);

  test("is abandoned when the client of its sandbox create goes away", async () => {
    const holder = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume" });
    expect(holder.status, JSON.stringify(holder.body)).toBe(201);
    const volumeID = holder.body.volume_id as string;
    await store.sandboxes.update(holder.body.id, { state: "terminating" });

    const gone = new AbortController();
    const request = fetch(`${server.url}/api/v1/sandboxes`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      body: JSON.stringify({ runtime: "local", persistence: "persistent-volume" }),
      signal: gone.signal,
    }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    gone.abort();
    await request;
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    await store.sandboxes.update(holder.body.id, { state: "ready" });
    expect((await server.api("DELETE", `/sandboxes/${holder.body.id}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await server.api("GET", `/volumes/${volumeID}`)).body).toMatchObject({ state: "available", sandbox_id: null });
    const live = (await server.api("GET", "/sandboxes")).body.sandboxes as { id: string }[];
    expect(live).toEqual([]);
    expect((await server.api("DELETE", `/volumes/${volumeID}`)).status).toBe(200);
  }, 60_000);
});
