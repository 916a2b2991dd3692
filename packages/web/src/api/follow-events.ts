import type { SessionEvent } from "@ciab/protocol";
import { parseServerSentEvents } from "@ciab/sdk/sse";
import { ApiError } from "./api-error.js";

export interface FollowEventsOptions {
  /** Opens the event stream after `lastSeq`; a failed answer throws an ApiError. */
  open(lastSeq: number, signal: AbortSignal): Promise<Response>;
  /** Events with seq > after; 0 replays them all. */
  after?: number;
  signal: AbortSignal;
  onEvent(event: SessionEvent): void;
  onConnection?(state: "open" | "reconnecting"): void;
  /** Failed reconnections in a row before giving up; an event that arrives resets the count. */
  maxRetries?: number;
  retryDelayMs?: number;
  /** Most bytes one message may take before the stream is given up on. */
  maxMessageBytes?: number;
}

const finalStates = new Set(["completed", "failed", "cancelled"]);

/** The store keeps events of at most 8 MiB (store/dynamodb/event-items.ts): a longer message is not one. */
const defaultMaxMessageBytes = 16 * 1024 * 1024;

/** A stream that ends with nothing new sooner than this counts as a failed reconnect, so ending at once backs off. */
const healthyStreamMs = 30_000;

/**
 * Follows a session's SSE stream until its final state, over fetch (EventSource cannot send the token).
 * A dropped stream is opened again from the last event seen (`Last-Event-ID`), so nothing is missed or
 * shown twice. Resolves `ended` after the final state, `aborted` when the signal fires; throws the API's
 * error when it refuses the stream (a bad token, an unknown session) or the retries run out.
 */
export async function followEvents(options: FollowEventsOptions): Promise<"ended" | "aborted"> {
  const { signal } = options;
  const maxRetries = options.maxRetries ?? 20;
  const retryDelayMs = options.retryDelayMs ?? 500;
  let lastSeq = options.after ?? 0;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const response = await options.open(lastSeq, signal);
      if (response.body === null) throw new ApiError("stream_empty", "the event stream has no body", 0);
      options.onConnection?.("open");
      const openedAt = Date.now();
      const seqBefore = lastSeq;
      const pending = { bytes: 0, max: options.maxMessageBytes ?? defaultMaxMessageBytes };
      for await (const message of parseServerSentEvents(chunksOf(response.body, signal, pending))) {
        pending.bytes = 0;
        const event = sessionEventOf(message.data);
        if (event === undefined || event.seq <= lastSeq) continue;
        lastSeq = event.seq;
        failures = 0;
        options.onEvent(event);
        if (event.type === "session.state.changed" && finalStates.has(String(event.data.state))) return "ended";
      }
      // The server ends a stream only after the final state: an end before it is a drop.
      if (lastSeq === seqBefore && Date.now() - openedAt < healthyStreamMs) {
        throw new ApiError("stream_ended", "the event stream ended before the session did", 0);
      }
    } catch (error) {
      if (signal.aborted) break;
      if (error instanceof ApiError && (!error.retryable || error.code === "event_too_large")) throw error;
      failures += 1;
      if (failures > maxRetries) throw error;
    }
    if (signal.aborted) break;
    options.onConnection?.("reconnecting");
    await delay(Math.min(retryDelayMs * 2 ** Math.min(failures, 4), 5_000), signal);
  }
  return "aborted";
}

/**
 * The body's chunks until it ends or the signal fires (a fetch's own abort may not reach a stream it handed
 * on). `pending` counts the bytes since the last whole message (its reader zeroes it); past its max the
 * stream is cut, so a line that never ends holds no more than that.
 */
async function* chunksOf(body: ReadableStream<Uint8Array>, signal: AbortSignal, pending: { bytes: number; max: number }): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  const cancel = () => reader.cancel().catch(() => undefined);
  signal.addEventListener("abort", cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      pending.bytes += value.byteLength;
      if (pending.bytes > pending.max) throw new ApiError("event_too_large", `an event of the stream is over ${pending.max} bytes`, 0);
      yield value;
    }
  } finally {
    signal.removeEventListener("abort", cancel);
    cancel();
  }
}

/** The event in one SSE message, or undefined when it is not one (a comment-like ping, a broken line). */
function sessionEventOf(data: string): SessionEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  const event = parsed as Partial<SessionEvent> | null;
  if (typeof event !== "object" || event === null) return undefined;
  if (!Number.isSafeInteger(event.seq) || typeof event.type !== "string") return undefined;
  if (typeof event.data !== "object" || event.data === null || Array.isArray(event.data)) return undefined;
  return event as SessionEvent;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
