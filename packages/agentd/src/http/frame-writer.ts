import type { ServerHttp2Stream } from "node:http2";
import type { Readable } from "node:stream";
import type { ExecFrame } from "../protocol.js";
import { toOutputFrame } from "../services/replay-buffer.js";

export const ndjsonHeaders = { ":status": 200, "content-type": "application/x-ndjson" } as const;

/** Writes ExecFrames as NDJSON lines; each line goes out as its own DATA frame at once. */
export class FrameWriter {
  readonly #stream: ServerHttp2Stream;

  constructor(stream: ServerHttp2Stream) {
    this.#stream = stream;
  }

  get open(): boolean {
    return !this.#stream.destroyed && !this.#stream.closed && !this.#stream.writableEnded;
  }

  /** Bytes written but not yet taken by the peer's flow-control window. */
  get buffered(): number {
    return this.#stream.writableLength;
  }

  write(frame: ExecFrame): boolean {
    if (!this.open) return false;
    return this.#stream.write(`${JSON.stringify(frame)}\n`);
  }

  end(frame?: ExecFrame): void {
    if (!this.open) return;
    this.#stream.end(frame === undefined ? undefined : `${JSON.stringify(frame)}\n`);
  }

  /**
   * Forwards stdout and stderr as frames. When the peer reads slower than the command writes, the command's
   * pipes are paused until the stream drains, so memory stays flat and the command blocks on its pipe.
   */
  pipeOutput(stdout: Readable, stderr: Readable): void {
    let waiting = false;
    const forward = (type: "stdout" | "stderr") => (chunk: Buffer) => {
      if (this.write(toOutputFrame(type, chunk)) || waiting || !this.open) return;
      waiting = true;
      stdout.pause();
      stderr.pause();
      this.#stream.once("drain", () => {
        waiting = false;
        stdout.resume();
        stderr.resume();
      });
    };
    stdout.on("data", forward("stdout"));
    stderr.on("data", forward("stderr"));
    // A peer that left never drains: keep reading so the command can exit and its pipes can close.
    this.#stream.once("close", () => {
      stdout.resume();
      stderr.resume();
    });
  }
}
