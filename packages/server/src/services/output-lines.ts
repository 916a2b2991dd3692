/** Longer lines are cut into pieces of this size: an agent printing without newlines cannot exhaust memory. */
export const maximumLineBytes = 1024 * 1024;

/**
 * Splits an agent's stdout into lines while tracking byte offsets, so the runner can store "everything
 * before this offset became events" and resume there after a restart: with no line lost or repeated.
 */
export class OutputLines {
  /** The unterminated line so far, in the chunks it came in (joined once, when it ends). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
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
    const expected = this.#consumed + this.#pendingBytes;
    if (offset !== undefined && offset < expected) {
      const overlap = expected - offset;
      if (overlap >= chunk.length) return [];
      chunk = chunk.subarray(overlap);
    }
    const lines: string[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      this.#append(chunk.subarray(start, newline), lines);
      lines.push(this.#take(1));
      start = newline + 1;
    }
    this.#append(chunk.subarray(start), lines);
    return lines;
  }

  /** The unterminated last line, if any, when the output ends. */
  flush(): string[] {
    return this.#pendingBytes === 0 ? [] : [this.#take(0)];
  }

  #append(piece: Buffer, lines: string[]): void {
    while (this.#pendingBytes + piece.length > maximumLineBytes) {
      const room = maximumLineBytes - this.#pendingBytes;
      this.#pending.push(piece.subarray(0, room));
      this.#pendingBytes += room;
      lines.push(this.#take(0));
      piece = piece.subarray(room);
    }
    if (piece.length > 0) {
      this.#pending.push(piece);
      this.#pendingBytes += piece.length;
    }
  }

  /** Ends the pending line; `terminator` is the newline's byte, if the line had one. */
  #take(terminator: number): string {
    const line = Buffer.concat(this.#pending, this.#pendingBytes).toString("utf8").replace(/\r$/, "");
    this.#consumed += this.#pendingBytes + terminator;
    this.#pending = [];
    this.#pendingBytes = 0;
    return line;
  }
}
