import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { CiabError, type ExecFrame } from "@ciab/protocol";
import type { StartedFrames } from "../services/exec-service.js";

/** Exec frames as SSE events: `exec.start`, `exec.output`, `exec.exit`, and `error` if the stream breaks. */
export function frameEvent(frame: ExecFrame): { event: string; data: string } {
  switch (frame.type) {
    case "start":
      return { event: "exec.start", data: JSON.stringify({ pid: frame.pid }) };
    case "stdout":
    case "stderr":
      return { event: "exec.output", data: JSON.stringify({ stream: frame.type, data: frame.data }) };
    case "exit":
      return {
        event: "exec.exit",
        data: JSON.stringify({
          exit_code: frame.exitCode,
          signal: frame.signal,
          timed_out: frame.timedOut,
          duration_ms: frame.durationMs,
        }),
      };
  }
}

export function streamFrames(c: Context, frames: StartedFrames, abort: AbortController): Response {
  return streamSSE(c, async (stream) => {
    stream.onAbort(() => abort.abort());
    let id = 0;
    try {
      if (frames.first) await stream.writeSSE({ ...frameEvent(frames.first), id: String(id++) });
      for (let next = await frames.rest.next(); !next.done; next = await frames.rest.next()) {
        await stream.writeSSE({ ...frameEvent(next.value), id: String(id++) });
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      const ciabError =
        error instanceof CiabError ? error : new CiabError("agent_unreachable", `the stream broke: ${String(error)}`);
      await stream.writeSSE({ event: "error", data: JSON.stringify(ciabError.toBody().error), id: String(id++) });
    }
  });
}
