import { describe, expect, test } from "vitest";
import { OutputLines } from "./output-lines.js";

describe("OutputLines", () => {
  test("splits across chunk boundaries and counts consumed bytes", () => {
    const lines = new OutputLines(0);
    expect(lines.push(Buffer.from('{"a":1}\n{"b"'), 0)).toEqual(['{"a":1}']);
    expect(lines.consumedOffset).toBe(8);
    expect(lines.push(Buffer.from(':2}\n'), 12)).toEqual(['{"b":2}']);
    expect(lines.consumedOffset).toBe(16);
  });

  test("skips bytes replayed twice after a reconnect", () => {
    const lines = new OutputLines(0);
    lines.push(Buffer.from("one\ntw"), 0);
    expect(lines.push(Buffer.from("one\ntwo\nthree\n"), 0)).toEqual(["two", "three"]);
  });

  test("a line without end is cut at the maximum, in linear time", () => {
    const lines = new OutputLines(0);
    const chunk = Buffer.alloc(64 * 1024, 120);
    const started = performance.now();
    let pieces: string[] = [];
    for (let index = 0; index < 64; index += 1) pieces = pieces.concat(lines.push(chunk));
    // 4 MiB with no newline: three full pieces out, the fourth waits for more (or the end).
    expect(pieces).toHaveLength(3);
    expect(pieces.every((piece) => piece.length === 1024 * 1024)).toBe(true);
    expect(lines.consumedOffset).toBe(3 * 1024 * 1024);
    expect(lines.flush()[0]).toHaveLength(1024 * 1024);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("resumes at a stored offset and keeps multi-byte characters whole", () => {
    const lines = new OutputLines(100);
    const text = Buffer.from("héllo wörld\n");
    expect(lines.push(text.subarray(0, 3), 100)).toEqual([]);
    expect(lines.push(text.subarray(3), 103)).toEqual(["héllo wörld"]);
    expect(lines.consumedOffset).toBe(100 + text.length);
    expect(lines.push(Buffer.from("tail"), 100 + text.length)).toEqual([]);
    expect(lines.flush()).toEqual(["tail"]);
  });
});
