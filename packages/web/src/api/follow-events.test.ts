import { describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { ApiError } from "./api-error.js";
import { followEvents } from "./follow-events.js";

function frame(seq: number, type: string, data: Record<string, unknown>): string {
  return `id: ${seq}\r\nevent: ${type}\r\ndata: ${JSON.stringify({ seq, session_id: "ses_1", type, data, created_at: "2026-01-01T00:00:00Z" })}\r\n\r\n`;
}

/** A streamed answer of these pieces of text, cut as the network would cut them; `then` "drop" errors it. */
function streamOf(pieces: string[], end: "close" | "drop" = "close"): Response {
  const bytes = new TextEncoder().encode(pieces.join(""));
  // Cut inside lines and inside multi-byte characters: every 7 bytes.
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += 7) chunks.push(bytes.slice(start, start + 7));
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks.shift();
      if (chunk) controller.enqueue(chunk);
      else if (end === "drop") controller.error(new TypeError("network error"));
      else controller.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

describe("following a session's events", () => {
  test("a drop mid-event resumes from the last whole event, each event once, until the final state", async () => {
    const opened: number[] = [];
    const answers = [
      () => streamOf([": ping\n\n", frame(1, "session.state.changed", { state: "running" }), frame(2, "agent.message", { text: "héllo ✓" }), "id: 3\ndata: {\"se"], "drop"),
      () => streamOf([frame(2, "agent.message", { text: "again" }), frame(3, "shell.output", { stream: "stdout", data: "aGk=" })]),
      () => streamOf([frame(4, "session.state.changed", { state: "cancelled", exit_code: 130 }), frame(5, "agent.message", { text: "never read" })]),
    ];
    const seen: SessionEvent[] = [];
    const states: string[] = [];
    const outcome = await followEvents({
      open: async (lastSeq) => {
        opened.push(lastSeq);
        return answers.shift()!();
      },
      signal: new AbortController().signal,
      onEvent: (event) => seen.push(event),
      onConnection: (state) => states.push(state),
      retryDelayMs: 1,
    });
    expect(outcome).toBe("ended");
    expect(opened).toEqual([0, 2, 3]);
    expect(seen.map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    expect(seen[1]!.data.text).toBe("héllo ✓");
    expect(states).toEqual(["open", "reconnecting", "open", "reconnecting", "open"]);
  });

  test("the API's refusal ends the follow with its error; a server error is retried, boundedly", async () => {
    const refused = followEvents({
      open: async () => {
        throw new ApiError("unauthorized", "unknown, revoked or expired token", 401);
      },
      signal: new AbortController().signal,
      onEvent: () => undefined,
      retryDelayMs: 1,
    });
    await expect(refused).rejects.toMatchObject({ code: "unauthorized" });

    let attempts = 0;
    const busy = followEvents({
      open: async () => {
        attempts += 1;
        throw new ApiError("unavailable", "busy", 503);
      },
      signal: new AbortController().signal,
      onEvent: () => undefined,
      maxRetries: 3,
      retryDelayMs: 1,
    });
    await expect(busy).rejects.toMatchObject({ status: 503 });
    expect(attempts).toBe(4);
  });

  test("broken messages are skipped, and an abort stops a stream that waits", async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const outcome = followEvents({
      open: async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(stream) {
              stream.enqueue(new TextEncoder().encode(`data: not json\n\ndata: [1]\n\n${frame(1, "agent.message", { text: "ok" })}`));
            },
          }),
        ),
      signal: controller.signal,
      onEvent: (event) => {
        seen.push(event.seq);
        controller.abort();
      },
    });
    await expect(outcome).resolves.toBe("aborted");
    expect(seen).toEqual([1]);
  }, 5_000);

  test("a stream that ends at once with nothing new backs off and is given up on, not reopened forever", async () => {
    const controller = new AbortController();
    let attempts = 0;
    const outcome = followEvents({
      open: async () => {
        attempts += 1;
        // Bounds the test, not the follower: without a bound of its own it would reopen without end.
        if (attempts > 50) controller.abort();
        return new Response("");
      },
      signal: controller.signal,
      onEvent: () => undefined,
      maxRetries: 3,
      retryDelayMs: 1,
    });
    await expect(outcome).rejects.toMatchObject({ code: "stream_ended" });
    expect(attempts).toBe(4);
  }, 5_000);

  test("a line that never ends is cut at the message bound, once, and not asked for again", async () => {
    const controller = new AbortController();
    let opened = 0;
    let sent = 0;
    const piece = new TextEncoder().encode("x".repeat(64 * 1024));
    const outcome = followEvents({
      open: async () => {
        opened += 1;
        if (opened > 5) controller.abort();
        return new Response(
          new ReadableStream<Uint8Array>({
            pull(stream) {
              // 8 MiB at most, then the stream closes: the test's bound, not the follower's.
              if (sent >= 8 * 1024 * 1024) return stream.close();
              sent += piece.length;
              stream.enqueue(piece);
            },
          }),
        );
      },
      signal: controller.signal,
      onEvent: () => undefined,
      maxMessageBytes: 1024 * 1024,
      retryDelayMs: 1,
    });
    await expect(outcome).rejects.toMatchObject({ code: "event_too_large" });
    expect(opened).toBe(1);
    expect(sent).toBeLessThanOrEqual(1024 * 1024 + 4 * piece.length);
  }, 5_000);
});

