import { lambdaPayloadLimitBytes } from "./lambda-event.js";
import { requiresServer } from "./lambda-refusals.js";

/**
 * The most body bytes of one answer: binary bodies go back base64-encoded (4 bytes for 3), and the answer's
 * headers and JSON envelope need room within Lambda's 6 MB.
 */
export const answerLimitBytes = Math.floor((lambdaPayloadLimitBytes * 3) / 4) - 64 * 1024;

export interface StreamWindow {
  /** An event stream is cut once no frame came for this long: what was stored has been replayed by then. */
  idleMs: number;
  /** And at the latest after this long, however busy the stream. */
  totalMs: number;
  /** The `retry:` a cut stream tells EventSource clients to wait before resuming with Last-Event-ID. */
  retryMs: number;
}

export const defaultStreamWindow: StreamWindow = { idleMs: 500, totalMs: 5_000, retryMs: 2_000 };

/**
 * Reads an answer whole, since the Lambda answers buffered. An event stream answers what it had within the
 * window, cut at the last whole frame, and closes; a client resumes from the last id it saw. Any other body
 * past the limit is refused with `requires_server` (nothing half-sent).
 */
export async function boundAnswer(response: Response, window: StreamWindow = defaultStreamWindow): Promise<Response> {
  if (response.body === null) return response;
  const isStream = /^text\/event-stream\b/i.test(response.headers.get("content-type") ?? "");
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const deadline = Date.now() + window.totalMs;
  try {
    for (;;) {
      const wait = isStream ? Math.min(window.idleMs, deadline - Date.now()) : undefined;
      const next = await readWithin(reader, wait);
      if (next === "timeout" || next.done) break;
      chunks.push(next.value);
      size += next.value.byteLength;
      if (size > answerLimitBytes) {
        if (isStream) break;
        throw requiresServer(`an answer of more than ${answerLimitBytes} bytes (AWS Lambda's limit)`);
      }
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  const body = Buffer.concat(chunks);
  if (!isStream) return new Response(body, { status: response.status, headers: response.headers });
  const whole = body.subarray(0, body.lastIndexOf("\n\n") + 2);
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(Buffer.concat([whole, Buffer.from(`retry: ${window.retryMs}\n\n`)]), { status: response.status, headers });
}

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>> | "timeout";

function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, waitMs: number | undefined): Promise<ReadResult> {
  if (waitMs === undefined) return reader.read();
  if (waitMs <= 0) return Promise.resolve("timeout");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), waitMs)));
  return Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
}
