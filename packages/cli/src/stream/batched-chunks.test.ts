import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { batchedChunks } from "./batched-chunks.js";

describe("batchedChunks", () => {
  it("joins what is buffered and cuts batches at the limit, keeping every byte in order", async () => {
    const input = Readable.from([Buffer.from("abc"), Buffer.from("defgh"), Buffer.from("ij")], { objectMode: false });
    const batches: string[] = [];
    for await (const batch of batchedChunks(input, 4)) batches.push(batch.toString());
    expect(batches.join("")).toBe("abcdefghij");
    expect(batches.every((batch) => batch.length <= 4)).toBe(true);
  });

  it("yields a lone chunk at once instead of waiting for more", async () => {
    const input = new PassThrough();
    const iterator = batchedChunks(input, 1024)[Symbol.asyncIterator]();
    input.write("typed line\n");
    expect((await iterator.next()).value?.toString()).toBe("typed line\n");
    input.end();
    expect((await iterator.next()).done).toBe(true);
  });
});
