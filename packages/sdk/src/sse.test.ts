import { describe, expect, it } from "vitest";
import { parseServerSentEvents, type ServerSentEvent } from "./sse.js";

async function collect(chunks: Array<string | Uint8Array>): Promise<ServerSentEvent[]> {
  async function* source(): AsyncGenerator<string | Uint8Array> {
    yield* chunks;
  }
  const events: ServerSentEvent[] = [];
  for await (const event of parseServerSentEvents(source())) events.push(event);
  return events;
}

const stream =
  ": keep-alive comment\n" +
  "event: exec.start\ndata: {\"pid\":7}\n\n" +
  "event: exec.output\r\ndata: line one\r\ndata: line two\r\n\r\n" +
  "id: 3\rdata:no space\r\r" +
  "data: ünïcødé ✓\n\n" +
  "event: ignored-without-data\n\n" +
  "data: unfinished";

const expected: ServerSentEvent[] = [
  { event: "exec.start", data: '{"pid":7}', id: undefined },
  { event: "exec.output", data: "line one\nline two", id: undefined },
  { event: "message", data: "no space", id: "3" },
  { event: "message", data: "ünïcødé ✓", id: "3" },
];

describe("parseServerSentEvents", () => {
  it("parses a whole stream: comments, CRLF/CR/LF, multi-line data, ids, and drops an unfinished message", async () => {
    expect(await collect([stream])).toEqual(expected);
  });

  it("gives the same events wherever the bytes are split", async () => {
    const bytes = new TextEncoder().encode(stream);
    for (let split = 1; split < bytes.length; split++) {
      const events = await collect([bytes.subarray(0, split), bytes.subarray(split)]);
      expect(events, `split at ${split}`).toEqual(expected);
    }
  });

  it("survives one byte at a time", async () => {
    const bytes = new TextEncoder().encode(stream);
    const chunks = Array.from(bytes, (byte) => Uint8Array.of(byte));
    expect(await collect(chunks)).toEqual(expected);
  });

  it("keeps colons after the first and treats a bare field name as empty", async () => {
    const events = await collect(["data: a: b\ndata\n\n"]);
    expect(events).toEqual([{ event: "message", data: "a: b\n", id: undefined }]);
  });

  it("dispatches a final CR-terminated message at the end", async () => {
    expect(await collect(["data: x\r\r"])).toEqual([{ event: "message", data: "x", id: undefined }]);
  });

  it("reads a 16 MiB line that arrives in 64 KiB chunks in one pass, not one search per chunk", async () => {
    const piece = "x".repeat(64 * 1024);
    const chunks = ["data: ", ...Array.from({ length: 256 }, () => piece), "\r", "\ndata: after\n\n"];
    const started = performance.now();
    const events = await collect(chunks);
    // One search per chunk took ~16 s here; one pass takes well under a second, even on a busy machine.
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(events).toHaveLength(1);
    expect(events[0]!.data.length).toBe(16 * 1024 * 1024 + "\nafter".length);
  });
});
