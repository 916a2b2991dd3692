import { StringDecoder } from "node:string_decoder";
import { createTerminalTextFilter, stripControlSequences } from "./terminal-text.js";

/** Where sandbox-controlled output goes: a stream that may or may not be a terminal. */
export interface OutputStream {
  write(chunk: string | Uint8Array): boolean;
  isTTY?: boolean;
}

/** Writes one stream of a sandbox's output (exec stdout, an agent's stderr…) to `target`. */
export interface SandboxOutput {
  /** Answers what the target's write answered (false: wait for "drain"). */
  write(chunk: Uint8Array | string): boolean;
  /** The stream ended: flushes a held UTF-8 tail; drops an unfinished escape sequence. */
  end(): void;
}

/**
 * Sandbox output as the user's terminal should get it: on a terminal, decoded as UTF-8 across chunk
 * boundaries and filtered to text and colour (terminal-text.ts); anywhere else (a pipe, a file) byte for
 * byte, since nothing interprets it there and the user may want it exact.
 */
export function createSandboxOutput(target: OutputStream): SandboxOutput {
  if (target.isTTY !== true) {
    return { write: (chunk) => target.write(chunk), end: () => undefined };
  }
  const decoder = new StringDecoder("utf8");
  const filter = createTerminalTextFilter();
  return {
    write(chunk) {
      const text = filter.write(typeof chunk === "string" ? chunk : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      return text === "" ? true : target.write(text);
    },
    end() {
      const text = filter.write(decoder.end()) + filter.end();
      if (text !== "") target.write(text);
    },
  };
}

/** A whole piece of sandbox-controlled text (an event line, an error message) for `target`. */
export function terminalText(target: OutputStream, text: string): string {
  return target.isTTY === true ? stripControlSequences(text) : text;
}
