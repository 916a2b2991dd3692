import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { CiabError, type ExecFrame } from "@ciab/protocol";
import type { StartedFrames } from "../services/exec-service.js";
import { frameEvent } from "./sse-frames.js";

/**
 * Exec frames as SSE events whose ids are stdout byte offsets: each event's id is the offset just past
 * what the stream has delivered so far, so `Last-Event-ID` is exactly the `stdoutOffset` to resume from.
 */
export function streamOffsetFrames(c: Context, frames: StartedFrames, from: number, abort: AbortController): Response {
  return streamSSE(c, async (stream) => {
    stream.onAbort(() => abort.abort());
    let position = from;
    const send = async (frame: ExecFrame): Promise<void> => {
      if (frame.type === "stdout") {
        const length = Buffer.byteLength(frame.data, "base64");
        position = Math.max(position, (frame.offset ?? position) + length);
      }
      await stream.writeSSE({ ...frameEvent(frame), id: String(position) });
    };
    try {
      if (frames.first) await send(frames.first);
      for (let next = await frames.rest.next(); !next.done; next = await frames.rest.next()) await send(next.value);
    } catch (error) {
      if (abort.signal.aborted) return;
      const ciabError =
        error instanceof CiabError ? error : new CiabError("agent_unreachable", `the stream broke: ${String(error)}`);
      await stream.writeSSE({ event: "error", data: JSON.stringify(ciabError.toBody().error), id: String(position) });
    }
  });
}
