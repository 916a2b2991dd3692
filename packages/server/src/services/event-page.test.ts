import { describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import type { Store } from "../store/store.js";
import { createEventService } from "./event-service.js";

/** A store holding 500 events of 100 KiB, answering `events.list` as the real ones do. */
function storeOfLargeEvents(): Store {
  const big = "x".repeat(100 * 1024);
  const stored: SessionEvent[] = Array.from({ length: 500 }, (_, index) => ({
    seq: index + 1,
    session_id: "ses_1",
    type: "agent.message",
    data: { text: big },
    created_at: "2026-01-01T00:00:00.000Z",
  }));
  const list = async (_: string, after: number, limit: number) => stored.filter((event) => event.seq > after).slice(0, limit);
  return { events: { list } } as unknown as Store;
}

describe("event pages", () => {
  test("are capped in bytes as well as in count, and always move on", async () => {
    const events = createEventService(storeOfLargeEvents());
    const page = await events.page("ses_1", 0, 10_000, 1024 * 1024);
    expect(page.length).toBe(10);
    expect(page.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const bytes = page.reduce((sum, event) => sum + JSON.stringify(event).length, 0);
    expect(bytes).toBeLessThanOrEqual(1024 * 1024);

    const counted = await events.page("ses_1", 10, 3, 100 * 1024 * 1024);
    expect(counted.map((event) => event.seq)).toEqual([11, 12, 13]);

    // One event larger than the page still comes alone, so a reader is never stuck.
    const single = await events.page("ses_1", 13, 1000, 1024);
    expect(single.map((event) => event.seq)).toEqual([14]);

    let after = 0;
    let pages = 0;
    for (;;) {
      const next = await events.page("ses_1", after, 10_000, 4 * 1024 * 1024);
      if (next.length === 0) break;
      after = next.at(-1)!.seq;
      pages++;
    }
    expect(after).toBe(500);
    expect(pages).toBe(13);
  });
});

/** A store that keeps appended events in memory, as the real ones keep them in order. */
function memoryStore(): Store {
  const stored: SessionEvent[] = [];
  return {
    events: {
      append: async (events: SessionEvent[]) => void stored.push(...events),
      list: async (_: string, after: number, limit: number) => stored.filter((event) => event.seq > after).slice(0, limit),
      lastSeq: async () => stored.at(-1)?.seq ?? 0,
    },
  } as unknown as Store;
}

describe("following events", () => {
  test("a reader slower than the flood goes back to the store, with no gap or duplicate", async () => {
    const events = createEventService(memoryStore());
    const abort = new AbortController();
    const batches = events.followBatches("ses_1", 0, abort.signal, async () => false, 64 * 1024)[Symbol.asyncIterator]();
    const first = batches.next();
    const text = "y".repeat(10 * 1024);
    // 100 events at once overflow the 64 KiB live buffer: the reader must fetch them from the store.
    await events.append("ses_1", Array.from({ length: 100 }, () => ({ type: "agent.message", data: { text } })));
    const seen: number[] = [];
    let largest = 0;
    let next = await first;
    for (;;) {
      const batch: SessionEvent[] = next.done ? [] : next.value;
      seen.push(...batch.map((event) => event.seq));
      largest = Math.max(largest, batch.reduce((sum, event) => sum + JSON.stringify(event).length, 0));
      if (next.done || seen.length >= 100) break;
      next = await batches.next();
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
    expect(largest).toBeLessThanOrEqual(64 * 1024);
    await events.append("ses_1", [{ type: "session.state.changed", data: { state: "completed" } }]);
    const last = await batches.next();
    expect((last.value as SessionEvent[]).map((event) => event.seq)).toEqual([101]);
    expect((await batches.next()).done).toBe(true);
  });
});
