import type { Readable } from "node:stream";

/** How long a batch waits for more input once nothing is buffered; a typist never notices it. */
const defaultGatherMs = 5;

/**
 * Chunks of a stream, each joining what arrives within a few milliseconds up to `maxBytes`: a fast producer
 * (tar through a pipe) costs few requests, and a slow one (a person typing) is sent at once. Nothing is read
 * while a batch is out, which holds the producer back through the pipe.
 */
export async function* batchedChunks(
  input: Readable,
  maxBytes: number,
  gatherMs = defaultGatherMs,
): AsyncGenerator<Buffer, void, undefined> {
  for (;;) {
    const first = input.read() as Buffer | string | null;
    if (first === null) {
      if ((await nextReadable(input)) === "end") return;
      continue;
    }
    const pieces = [Buffer.from(first)];
    let size = pieces[0]!.length;
    while (size < maxBytes) {
      const more = input.read() as Buffer | string | null;
      if (more !== null) {
        const piece = Buffer.from(more);
        pieces.push(piece);
        size += piece.length;
        continue;
      }
      if ((await nextReadable(input, gatherMs)) !== "readable") break;
    }
    const batch = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size);
    for (let start = 0; start < batch.length; start += maxBytes) yield batch.subarray(start, start + maxBytes);
  }
}

/** Waits until the stream has data, ends, or (with `timeoutMs`) the time passes; an error is thrown. */
function nextReadable(input: Readable, timeoutMs?: number): Promise<"readable" | "end" | "timeout"> {
  if (input.readableEnded || input.destroyed) return Promise.resolve("end");
  return new Promise((resolve, reject) => {
    const settle = (outcome: "readable" | "end" | "timeout", error?: Error): void => {
      input.off("readable", onReadable).off("end", onEnd).off("close", onEnd).off("error", onError);
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(outcome);
    };
    const onReadable = (): void => settle("readable");
    const onEnd = (): void => settle("end");
    const onError = (error: Error): void => settle("end", error);
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => settle("timeout"), timeoutMs);
    input.once("readable", onReadable).once("end", onEnd).once("close", onEnd).once("error", onError);
  });
}
