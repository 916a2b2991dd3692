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
