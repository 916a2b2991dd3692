/**
 * Splits an agent's stdout into lines while tracking byte offsets, so the runner can store "everything
 * before this offset became events" and resume there after a restart: with no line lost or repeated.
 */
export class OutputLines {
  #pending: Buffer = Buffer.alloc(0);
  #consumed: number;

  constructor(startOffset: number) {
    this.#consumed = startOffset;
  }

  /** Bytes of complete lines handed out so far (the resume point). */
  get consumedOffset(): number {
    return this.#consumed;
  }

  /**
   * Takes a chunk that starts at `offset` (when the sender knows it; overlapping bytes already seen are
   * skipped) and returns the complete lines it finishes.
   */
  push(chunk: Buffer, offset?: number): string[] {
    const expected = this.#consumed + this.#pending.length;
    if (offset !== undefined && offset < expected) {
      const overlap = expected - offset;
      if (overlap >= chunk.length) return [];
      chunk = chunk.subarray(overlap);
    }
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const lines: string[] = [];
    let start = 0;
    for (let newline = this.#pending.indexOf(10, start); newline !== -1; newline = this.#pending.indexOf(10, start)) {
      lines.push(this.#pending.subarray(start, newline).toString("utf8").replace(/\r$/, ""));
      start = newline + 1;
    }
    this.#consumed += start;
    this.#pending = this.#pending.subarray(start);
    return lines;
  }

  /** The unterminated last line, if any, when the output ends. */
  flush(): string[] {
    if (this.#pending.length === 0) return [];
    const line = this.#pending.toString("utf8");
    this.#consumed += this.#pending.length;
    this.#pending = Buffer.alloc(0);
    return [line];
  }
}
