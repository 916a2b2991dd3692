import { EventEmitter } from "node:events";
import { finalSessionStates, type NewSessionEvent, type SessionEvent, type SessionState } from "@ciab/protocol";
import type { Store } from "../store/store.js";

/**
 * The append-only, numbered event stream of every session. Appends are serialized per session (the
 * sequence has no gaps), persisted before anyone sees them, then fanned out to live readers.
 */
export function createEventService(store: Store) {
  const nextSeq = new Map<string, number>();
  const queues = new Map<string, Promise<unknown>>();
  const live = new EventEmitter();
  live.setMaxListeners(0);

  async function seqAfterLast(sessionID: string): Promise<number> {
    const known = nextSeq.get(sessionID);
    if (known !== undefined) return known;
    const next = (await store.events.lastSeq(sessionID)) + 1;
    nextSeq.set(sessionID, next);
    return next;
  }

  function serialized<T>(sessionID: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(sessionID) ?? Promise.resolve();
    const result = previous.then(work, work);
    const settled = result.catch(() => undefined);
    queues.set(sessionID, settled);
    void settled.then(() => {
      if (queues.get(sessionID) === settled) queues.delete(sessionID);
    });
    return result;
  }

  /**
   * At most `limit` events after `after` whose JSON takes at most `maxBytes` (one event always, so a
   * reader moves on even past an event larger than the page), read from the store in small runs so a
   * page of large events is never held twice.
   */
  async function page(sessionID: string, after: number, limit: number, maxBytes: number): Promise<SessionEvent[]> {
    const events: SessionEvent[] = [];
    let bytes = 0;
    let last = after;
    while (events.length < limit) {
      const run = await store.events.list(sessionID, last, Math.min(limit - events.length, pageRunLength));
      for (const event of run) {
        bytes += Buffer.byteLength(JSON.stringify(event)) + 1;
        if (bytes > maxBytes && events.length > 0) return events;
        events.push(event);
        last = event.seq;
      }
      if (run.length < pageRunLength) return events;
    }
    return events;
  }

  return {
    /** Numbers, stores and publishes events; `stdoutOffset` moves the session's resume point atomically. */
    append(sessionID: string, events: NewSessionEvent[], stdoutOffset?: number): Promise<SessionEvent[]> {
      return serialized(sessionID, async () => {
        let seq = await seqAfterLast(sessionID);
        const createdAt = new Date().toISOString();
        const numbered = events.map((event): SessionEvent => {
          const stored: SessionEvent = { seq: seq++, session_id: sessionID, type: event.type, data: event.data, created_at: createdAt };
          if (event.raw !== undefined) stored.raw = event.raw;
          return stored;
        });
        try {
          await store.events.append(numbered, stdoutOffset === undefined ? undefined : { sessionID, stdoutOffset });
        } catch (error) {
          nextSeq.delete(sessionID);
          throw error;
        }
        nextSeq.set(sessionID, seq);
        for (const event of numbered) live.emit(sessionID, event);
        return numbered;
      });
    },

    list(sessionID: string, after: number, limit = 1000): Promise<SessionEvent[]> {
      return store.events.list(sessionID, after, Math.min(limit, 10_000));
    },

    page,

    /**
     * Every event after `after`, then live ones, with no gap or duplicate at the seam, in batches of what
     * is available at once (one write per batch keeps 10 readers of a fast agent cheap); ends after the
     * batch holding the event that moves the session to a final state, or when `signal` aborts. Batches
     * read from the store hold at most `batchBytes`; live events wait in a buffer of at most `batchBytes`,
     * and a reader slower than that (its client does not read) goes back to reading pages from the store.
     */
    async *followBatches(
      sessionID: string,
      after: number,
      signal: AbortSignal,
      isFinal: () => Promise<boolean>,
      batchBytes = defaultBatchBytes,
    ): AsyncGenerator<SessionEvent[]> {
      let buffered: SessionEvent[] = [];
      let bufferedBytes = 0;
      let overflowed = false;
      let wake: (() => void) | undefined;
      const onEvent = (event: SessionEvent) => {
        if (overflowed) return;
        buffered.push(event);
        bufferedBytes += toServerSentEvent(event).length;
        if (bufferedBytes > batchBytes) {
          overflowed = true;
          buffered = [];
          bufferedBytes = 0;
        }
        wake?.();
      };
      live.on(sessionID, onEvent);
      const onAbort = () => wake?.();
      signal.addEventListener("abort", onAbort);
      let last = after;
      const fresh = (events: SessionEvent[]) => {
        const batch = events.filter((event) => event.seq > last);
        if (batch.length > 0) last = batch.at(-1)!.seq;
        return batch;
      };
      /** Pages from the store until it has nothing after `last`; true once the final event went out. */
      async function* catchUp(): AsyncGenerator<SessionEvent[], boolean> {
        for (;;) {
          const batch = fresh(await page(sessionID, last, 5000, batchBytes));
          if (batch.length === 0) return false;
          yield batch;
          if (batch.some(endsSession)) return true;
        }
      }
      try {
        if (yield* catchUp()) return;
        // The final event may have been stored between the last page read and now, or (the state is written
        // just before its event) may still be on its way: then the live loop below delivers it.
        if ((await isFinal()) && (yield* catchUp())) return;
        while (!signal.aborted) {
          if (overflowed) {
            overflowed = false;
            if (yield* catchUp()) return;
            continue;
          }
          if (buffered.length > 0) {
            const batch = fresh(buffered);
            buffered = [];
            bufferedBytes = 0;
            if (batch.length > 0) yield batch;
            if (batch.some(endsSession)) return;
            continue;
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        live.off(sessionID, onEvent);
        signal.removeEventListener("abort", onAbort);
      }
    },

    /** Forgets cached sequence numbers of a session that ended (they reload from the store if needed). */
    release(sessionID: string): void {
      nextSeq.delete(sessionID);
    },
  };
}

export type EventService = ReturnType<typeof createEventService>;

/** Events read from the store at a time while a page fills. */
const pageRunLength = 200;
/** Most bytes of events a live reader holds at once (see followBatches). */
const defaultBatchBytes = 4 * 1024 * 1024;

const serialized = new WeakMap<SessionEvent, string>();

/** An event as one SSE message; serialized once however many readers it goes to. */
export function toServerSentEvent(event: SessionEvent): string {
  let text = serialized.get(event);
  if (text === undefined) {
    text = `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    serialized.set(event, text);
  }
  return text;
}

export function endsSession(event: SessionEvent): boolean {
  return (
    event.type === "session.state.changed" && finalSessionStates.includes(event.data.state as SessionState)
  );
}
