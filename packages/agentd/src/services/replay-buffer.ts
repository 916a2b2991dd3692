import type { ExecFrame } from "../protocol.js";

type OutputFrame = Extract<ExecFrame, { type: "stdout" | "stderr" }>;

/**
 * The last `limitBytes` of a process's output, as frames. Old frames are dropped whole, and a chunk
 * larger than the limit keeps only its tail, so memory stays bounded whatever the process writes.
 */
export class ReplayBuffer {
  readonly #limitBytes: number;
  readonly #chunks: { type: "stdout" | "stderr"; data: Buffer }[] = [];
  #head = 0;
  #size = 0;

  constructor(limitBytes: number) {
    this.#limitBytes = limitBytes;
  }

  push(type: "stdout" | "stderr", data: Buffer): void {
    if (data.length > this.#limitBytes) data = data.subarray(data.length - this.#limitBytes);
    this.#chunks.push({ type, data });
    this.#size += data.length;
    while (this.#size > this.#limitBytes) {
      const dropped = this.#chunks[this.#head]!;
      this.#size -= dropped.data.length;
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }

  get size(): number {
    return this.#size;
  }

  frames(): OutputFrame[] {
    return this.#chunks.slice(this.#head).map(({ type, data }) => toOutputFrame(type, data));
  }
}

export function toOutputFrame(type: "stdout" | "stderr", data: Buffer): OutputFrame {
  return { type, data: data.toString("base64"), encoding: "base64" };
}
