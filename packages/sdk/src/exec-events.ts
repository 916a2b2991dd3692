import { errorFromResponse } from "./errors.js";
import { parseServerSentEvents } from "./sse.js";

/** What a streamed exec or a process's output yields, in order: one start, outputs, one exit. */
export type ExecEvent =
  | { type: "exec.start"; pid: number }
  | { type: "exec.output"; stream: "stdout" | "stderr"; data: Buffer }
  | { type: "exec.exit"; exit_code: number | null; signal: string | null; timed_out: boolean; duration_ms: number };

/**
 * Reads the SSE answer of `exec/stream` or `processes/:pid/output` into typed events. An `error` event
 * is thrown as its typed error (its `status` is that of the answer carrying the stream).
 */
export async function* readExecEvents(response: Response): AsyncGenerator<ExecEvent, void, undefined> {
  if (response.body === null) return;
  for await (const message of parseServerSentEvents(response.body)) {
    const data = JSON.parse(message.data) as Record<string, unknown>;
    switch (message.event) {
      case "exec.start":
        yield { type: "exec.start", pid: data.pid as number };
        break;
      case "exec.output":
        yield {
          type: "exec.output",
          stream: data.stream === "stderr" ? "stderr" : "stdout",
          data: Buffer.from(String(data.data), "base64"),
        };
        break;
      case "exec.exit":
        yield {
          type: "exec.exit",
          exit_code: (data.exit_code as number | null | undefined) ?? null,
          signal: (data.signal as string | null | undefined) ?? null,
          timed_out: data.timed_out === true,
          duration_ms: (data.duration_ms as number | undefined) ?? 0,
        };
        break;
      case "error":
        throw errorFromResponse(response.status, { error: data });
      default:
        // Events this client does not know yet (a newer server) are skipped.
        break;
    }
  }
}
