import { closeSync, createReadStream, openSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";
import { CiabError } from "../protocol.js";

/**
 * A process's whole stdout on disk, so any byte offset can be read again. Appends are synchronous: once
 * `append` returned, `length` bytes are in the file, which is what lets a reader take "the file up to
 * `length`, then live data from `length`" with neither gap nor overlap.
 */
export class OutputLog {
  readonly path: string;
  #fd: number | undefined;
  #length = 0;
  #failure: Error | undefined;

  private constructor(filePath: string, fd: number) {
    this.path = filePath;
    this.#fd = fd;
  }

  /** Creates (or truncates: a reused pid replaces its old log) `<directory>/<pid>.stdout`, private to agentd's user. */
  static create(directory: string, pid: number): OutputLog {
    const filePath = path.join(directory, `${pid}.stdout`);
    return new OutputLog(filePath, openSync(filePath, "w", 0o600));
  }

  /** Bytes in the file. */
  get length(): number {
    return this.#length;
  }

  append(data: Buffer): void {
    if (this.#fd === undefined) return;
    try {
      for (let written = 0; written < data.length; ) written += writeSync(this.#fd, data, written);
      this.#length += data.length;
    } catch (error) {
      // A full disk stops the log, not the process: live output still flows, only replay from disk ends.
      this.#failure = error as Error;
      this.close();
    }
  }

  /** Reads bytes [from, to) in chunks. Throws when appending failed: what follows in the file would be missing. */
  async *read(from: number, to: number): AsyncGenerator<Buffer> {
    if (this.#failure) {
      throw new CiabError("internal", `stdout could not be kept on disk: ${this.#failure.message}`, { cause: this.#failure });
    }
    if (from >= to) return;
    yield* createReadStream(this.path, { start: from, end: to - 1, highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>;
  }

  /** Stops appending; the file stays readable. */
  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** Stops appending and deletes the file. */
  remove(): void {
    this.close();
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone: the state dir is in a temp dir that may be cleaned under us.
    }
  }
}
