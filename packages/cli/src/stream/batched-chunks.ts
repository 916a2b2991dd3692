import type { Readable } from "node:stream";

/**
 * Chunks of a stream, each joining what was already buffered up to `maxBytes`: while one batch is being
 * sent, the next gathers, so a fast producer costs few requests and a slow one (a person typing) waits for
 * none. Reading stops while a batch is out, which holds the producer back through the pipe.
 */
export async function* batchedChunks(input: Readable, maxBytes: number): AsyncGenerator<Buffer, void, undefined> {
  for await (const first of input as AsyncIterable<Buffer | string>) {
    const pieces = [Buffer.from(first)];
    let size = pieces[0]!.length;
    while (size < maxBytes) {
      const more = input.read() as Buffer | string | null;
      if (more === null) break;
      const piece = Buffer.from(more);
      pieces.push(piece);
      size += piece.length;
    }
    const batch = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size);
    for (let start = 0; start < batch.length; start += maxBytes) yield batch.subarray(start, start + maxBytes);
  }
}
