import { errorFromResponse } from "./errors.js";
import { parseServerSentEvents, type ServerSentEvent } from "./sse.js";

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
    const event = toExecEvent(response, message);
    if (event !== undefined) yield event;
  }
}

/** One SSE message as an ExecEvent; undefined for events this client does not know yet (a newer server). */
export function toExecEvent(response: Response, message: ServerSentEvent): ExecEvent | undefined {
  const data = JSON.parse(message.data) as Record<string, unknown>;
  switch (message.event) {
    case "exec.start":
      return { type: "exec.start", pid: data.pid as number };
    case "exec.output":
      return {
        type: "exec.output",
        stream: data.stream === "stderr" ? "stderr" : "stdout",
        data: Buffer.from(String(data.data), "base64"),
      };
    case "exec.exit":
      return {
        type: "exec.exit",
        exit_code: (data.exit_code as number | null | undefined) ?? null,
        signal: (data.signal as string | null | undefined) ?? null,
        timed_out: data.timed_out === true,
        duration_ms: (data.duration_ms as number | undefined) ?? 0,
      };
    case "error":
      throw errorFromResponse(response.status, { error: data });
    default:
      return undefined;
  }
}
