import { expect, test } from "vitest";
import { newID } from "../../ids.js";
import type { Store } from "../store.js";
import type { MakeStore } from "./store-contract.js";
import { events, sessionRecord } from "./fixtures.js";

/** Appends one event the way the event service does: the next number after the last, again if it lost a race. */
async function appendOne(store: Store, sessionID: string, text: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const seq = (await store.events.lastSeq(sessionID)) + 1;
    try {
      await store.events.append(events(sessionID, seq, 1, { text }));
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    }
  }
  throw new Error(`${text} never appended`);
}

export function sessionEventContract(fresh: MakeStore): void {
  test("sessions: the owner of a sandbox is the session that made it for itself, in its workspace", async () => {
    const store = await fresh();
    const sandboxID = newID("sbx");
    const borrower = sessionRecord("ws_a", { sandboxID, ownsSandbox: false });
    const owner = sessionRecord("ws_a", { sandboxID: null });
    await store.sessions.create(borrower);
    await store.sessions.create(owner);
    await store.sessions.create(sessionRecord("ws_b", { sandboxID }));
    expect(await store.sessions.ownerOf("ws_a", sandboxID)).toBeUndefined();
    // The runner records the sandbox on its session once the sandbox is made.
    const mine = newID("sbx");
    await store.sessions.update(owner.id, { sandboxID: mine });
    expect((await store.sessions.ownerOf("ws_a", mine))?.id).toBe(owner.id);
    expect(await store.sessions.ownerOf("ws_b", mine)).toBeUndefined();
    expect(await store.sessions.ownerOf("ws_a", "sbx_../../x")).toBeUndefined();
  });

  test("sessions: scoped, listed newest first by state, across workspaces by state, found by gateway token", async () => {
    const store = await fresh();
    const first = sessionRecord("ws_a", { gatewayTokenHash: "gw1" });
    const second = sessionRecord("ws_a", { state: "running" });
    await store.sessions.create(first);
    await store.sessions.create(second);
    await store.sessions.create(sessionRecord("ws_b", { state: "running" }));
    expect(await store.sessions.get("ws_b", first.id)).toBeUndefined();
    expect(await store.sessions.get("ws_a", first.id)).toEqual(first);
    expect(await store.sessions.getAny(first.id)).toEqual(first);
    expect((await store.sessions.list("ws_a")).map((session) => session.id)).toEqual([first.id, second.id].sort().reverse());
    expect((await store.sessions.list("ws_a", { states: ["running"] })).map((session) => session.id)).toEqual([second.id]);
    expect(await store.sessions.list("ws_a", { limit: 1 })).toHaveLength(1);
    expect(await store.sessions.listAll({ states: ["running"] })).toHaveLength(2);
    expect(await store.sessions.listAll()).toHaveLength(3);

    expect((await store.sessions.findByGatewayToken("gw1"))?.id).toBe(first.id);
    const moved = await store.sessions.update(first.id, { gatewayTokenHash: "gw2", state: "running", processPID: 42 });
    expect(moved).toMatchObject({ gatewayTokenHash: "gw2", state: "running", processPID: 42, prompt: "hello" });
    expect(await store.sessions.findByGatewayToken("gw1")).toBeUndefined();
    expect((await store.sessions.findByGatewayToken("gw2"))?.id).toBe(first.id);
    expect(await store.sessions.listAll({ states: ["pending"] })).toHaveLength(0);

    await Promise.all([
      store.sessions.addUsage(first.id, { inputTokens: 10, outputTokens: 5, costUSD: 0.5 }),
      store.sessions.addUsage(first.id, { inputTokens: 1, outputTokens: 1, costUSD: 0.25 }),
      store.sessions.update(first.id, { state: "idle" }),
    ]);
    expect(await store.sessions.getAny(first.id)).toMatchObject({ inputTokens: 11, outputTokens: 6, costUSD: 0.75, state: "idle" });
  });

  test("events: appended in order with the stdout offset, listed after a cursor, numbered from the last", async () => {
    const store = await fresh();
    const session = sessionRecord("ws_a");
    await store.sessions.create(session);
    expect(await store.events.lastSeq(session.id)).toBe(0);
    expect(await store.events.list(session.id, 0, 10)).toEqual([]);
    const batch = events(session.id, 1, 3);
    batch[1]!.raw = '{"raw":true}';
    await store.events.append(batch, { sessionID: session.id, stdoutOffset: 120 });
    expect(await store.events.lastSeq(session.id)).toBe(3);
    expect(await store.events.list(session.id, 0, 10)).toEqual(batch);
    expect(await store.events.list(session.id, 1, 1)).toEqual([batch[1]]);
    expect((await store.sessions.getAny(session.id))!.stdoutOffset).toBe(120);
    await store.events.append([], { sessionID: session.id, stdoutOffset: 130 });
    expect((await store.sessions.getAny(session.id))!.stdoutOffset).toBe(130);
    // A second writer with a number that is taken is refused, and nothing it carried is stored.
    await expect(store.events.append(events(session.id, 3, 2, { text: "late" }))).rejects.toBeInstanceOf(Error);
    expect(await store.events.lastSeq(session.id)).toBe(3);
    expect((await store.events.list(session.id, 2, 10))[0]!.data.text).toBe("event 3");
  });

  test("events: concurrent appenders get every number once, with no gap", async () => {
    const store = await fresh();
    const session = sessionRecord("ws_a");
    await store.sessions.create(session);
    await Promise.all(Array.from({ length: 12 }, (_, index) => appendOne(store, session.id, `writer ${index}`)));
    const stored = await store.events.list(session.id, 0, 100);
    expect(stored.map((event) => event.seq)).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
    expect(new Set(stored.map((event) => event.data.text)).size).toBe(12);
  });

  test("events: a batch beyond one transaction and an event beyond one item are stored whole", async () => {
    const store = await fresh();
    const session = sessionRecord("ws_a");
    await store.sessions.create(session);
    const many = events(session.id, 1, 250);
    await store.events.append(many, { sessionID: session.id, stdoutOffset: 9 });
    expect(await store.events.lastSeq(session.id)).toBe(250);
    expect((await store.events.list(session.id, 0, 1000)).map((event) => event.seq)).toEqual(many.map((event) => event.seq));
    expect((await store.sessions.getAny(session.id))!.stdoutOffset).toBe(9);
    const big = events(session.id, 251, 1, { text: "é".repeat(700_000) });
    await store.events.append(big);
    const [read] = await store.events.list(session.id, 250, 1);
    expect(read).toEqual(big[0]);
  });
}
