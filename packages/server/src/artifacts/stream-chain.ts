import type { Readable, Transform } from "node:stream";

/**
 * Pipes `source` through `transforms` and returns the last one; an error anywhere destroys the whole
 * chain with it, so a reader of the end sees the failure of any link (pipe() alone would not forward it).
 */
export function streamChain(source: Readable, ...transforms: Transform[]): Readable {
  let previous: Readable = source;
  const all: Array<Readable | Transform> = [source, ...transforms];
  const fail = (error: Error): void => {
    for (const stream of all) if (!stream.destroyed) stream.destroy(error);
  };
  for (const stream of all) stream.once("error", fail);
  for (const transform of transforms) {
    previous.pipe(transform);
    previous = transform;
  }
  return previous;
}
