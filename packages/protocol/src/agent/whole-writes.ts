/** The part of an HTTP/2 stream (any Writable) whose batched writes are replaced. */
interface BatchedWritable {
  _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void;
  _writev?: ((chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: (error?: Error | null) => void) => void) | null;
}

/**
 * Makes an HTTP/2 stream hand each batch of writes to its session as one Buffer. Node 20's native writev of
 * an HTTP/2 stream sends a batch that ends in an empty string with its first 16 bytes read from freed memory,
 * and Node's HTTP client writes exactly that (its head, then "" for an empty first body chunk), so a request
 * tunnelled through CONNECT arrived corrupted. One Buffer per batch never takes that path.
 */
export function wholeWrites<T extends object>(stream: T): T {
  const writable = stream as unknown as BatchedWritable;
  writable._writev = (chunks, callback) => {
    const buffers = chunks.map(({ chunk, encoding }) =>
      typeof chunk === "string" ? Buffer.from(chunk, encoding) : Buffer.from((chunk as Uint8Array).buffer, (chunk as Uint8Array).byteOffset, (chunk as Uint8Array).byteLength),
    );
    writable._write(Buffer.concat(buffers), "buffer" as BufferEncoding, callback);
  };
  return stream;
}
