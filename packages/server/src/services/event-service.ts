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

    /**
     * Every event after `after`, then live ones, with no gap or duplicate at the seam, in batches of what
     * is available at once (one write per batch keeps 10 readers of a fast agent cheap); ends after the
     * batch holding the event that moves the session to a final state, or when `signal` aborts.
     */
    async *followBatches(
      sessionID: string,
      after: number,
      signal: AbortSignal,
      isFinal: () => Promise<boolean>,
    ): AsyncGenerator<SessionEvent[]> {
      let buffered: SessionEvent[] = [];
      let bufferedCharacters = 0;
      // Set when a slow reader let too much pile up: what it missed is read back from the store instead.
      let overflowed = false;
      let wake: (() => void) | undefined;
      const dropBuffered = () => {
        buffered = [];
        bufferedCharacters = 0;
      };
      const onEvent = (event: SessionEvent) => {
        if (!overflowed) {
          buffered.push(event);
          bufferedCharacters += toServerSentEvent(event).length;
          if (bufferedCharacters > maximumBufferedCharacters) {
            overflowed = true;
            dropBuffered();
          }
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
      try {
        for (;;) {
          const page = fresh(await store.events.list(sessionID, last, 5000));
          if (page.length > 0) yield page;
          if (page.some(endsSession)) return;
          if (page.length < 5000) break;
        }
        if (await isFinal()) {
          // The final event may have been stored between the page read and now, or (the state is written
          // just before its event) may still be on its way: then the live loop below delivers it.
          const rest = fresh(await store.events.list(sessionID, last, 100_000));
          if (rest.length > 0) yield rest;
          if (rest.some(endsSession)) return;
        }
        while (!signal.aborted) {
          if (overflowed) {
            // Events are stored before they are emitted: everything dropped is in this read or a later one.
            overflowed = false;
            const page = fresh(await store.events.list(sessionID, last, overflowPageSize));
            if (page.length === overflowPageSize) {
              overflowed = true;
              dropBuffered();
            }
            if (page.length > 0) yield page;
            if (page.some(endsSession)) return;
            continue;
          }
          if (buffered.length > 0) {
            const batch = fresh(buffered);
            dropBuffered();
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

/** Live events held for one reader that is not keeping up, before it falls back to reading the store. */
const maximumBufferedCharacters = 8 * 1024 * 1024;
const overflowPageSize = 500;

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
