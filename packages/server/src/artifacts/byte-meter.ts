import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { CiabError } from "@ciab/protocol";

/**
 * A pass-through that counts bytes and hashes them (sha256) as they stream, and fails the stream once
 * more than `maxBytes` went through: whatever a sandbox sends is bounded.
 */
export class ByteMeter extends Transform {
  readonly #hash = createHash("sha256");
  readonly #maxBytes: number;
  #size = 0;
  #digest: string | undefined;

  constructor(maxBytes: number) {
    super({ highWaterMark: 1024 * 1024 });
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#size > this.#maxBytes) {
      callback(new CiabError("payload_too_large", `larger than [artifacts] max_bytes (${this.#maxBytes} bytes)`));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#digest = this.#hash.digest("hex");
    callback();
  }

  /** Not `size`: lib-storage would take a `size` on the body for the whole length before it streamed. */
  get byteCount(): number {
    return this.#size;
  }

  /** Known once the stream ended. */
  get sha256(): string {
    if (this.#digest === undefined) throw new Error("sha256 read before the stream ended");
    return this.#digest;
  }
}
