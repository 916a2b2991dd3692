import type { Readable } from "node:stream";
import type { ExecFrame } from "@ciab/protocol";
import { CiabError } from "@ciab/protocol";
import { toChannelError } from "./agent-session.js";

/** agentd writes frames of at most a few hundred KiB; a longer unterminated line is not agentd talking. */
export const maximumFrameBytes = 16 * 1024 * 1024;

/**
 * Parses NDJSON ExecFrame lines as they arrive. A stream cut before its end, an oversized line or a line
 * that is not a frame surfaces as a retryable `agent_unreachable`: the caller's request fails, nothing else.
 */
export async function* readFrames(stream: Readable, signal?: AbortSignal): AsyncGenerator<ExecFrame> {
  // Parts of the line not yet ended; each chunk is searched once, so a long line costs linear time.
  let parts: Buffer[] = [];
  let partBytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      let newline = chunk.indexOf(10);
      while (newline !== -1) {
        const piece = chunk.subarray(start, newline);
        const line = parts.length === 0 ? piece : Buffer.concat([...parts, piece], partBytes + piece.length);
        parts = [];
        partBytes = 0;
        if (line.length > maximumFrameBytes) throw oversized();
        if (line.length > 0) yield parseFrame(line);
        start = newline + 1;
        newline = chunk.indexOf(10, start);
      }
      if (start < chunk.length) {
        parts.push(chunk.subarray(start));
        partBytes += chunk.length - start;
        if (partBytes > maximumFrameBytes) throw oversized();
      }
    }
  } catch (error) {
    stream.destroy();
    throw toChannelError(error, signal);
  }
  if (partBytes > 0) {
    const rest = Buffer.concat(parts, partBytes);
    // agentd ends every frame with a newline: a rest without one is a stream cut inside a frame (agentd drops
    // a reader that falls far behind), which its readers resume, not a frame.
    if (rest.toString("utf8").trim() !== "") throw new CiabError("agent_unreachable", "agentd's stream ended inside a frame", { retryable: true });
  }
}

function parseFrame(line: Buffer): ExecFrame {
  let frame: unknown;
  try {
    frame = JSON.parse(line.toString("utf8"));
  } catch (error) {
    throw new CiabError("agent_unreachable", "agentd sent a frame that is not JSON", { cause: error, retryable: true });
  }
  if (!isExecFrame(frame)) throw new CiabError("agent_unreachable", "agentd sent a frame of an unknown shape", { retryable: true });
  return frame;
}

/** What consumers rely on, checked by hand: this runs once per output chunk. */
function isExecFrame(value: unknown): value is ExecFrame {
  if (typeof value !== "object" || value === null) return false;
  const frame = value as Record<string, unknown>;
  switch (frame.type) {
    case "start":
      return typeof frame.pid === "number";
    case "stdout":
    case "stderr":
      return typeof frame.data === "string" && (frame.offset === undefined || typeof frame.offset === "number");
    case "exit":
      return (
        (frame.exitCode === null || typeof frame.exitCode === "number") &&
        (frame.signal === null || typeof frame.signal === "string") &&
        typeof frame.timedOut === "boolean" &&
        typeof frame.durationMs === "number"
      );
    default:
      return false;
  }
}

function oversized(): CiabError {
  return new CiabError("agent_unreachable", `agentd sent a frame over ${maximumFrameBytes} bytes`, { retryable: true });
}
