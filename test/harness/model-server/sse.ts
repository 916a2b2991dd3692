import type { ServerResponse } from "node:http";

/** Starts a text/event-stream answer. */
export function startEventStream(response: ServerResponse): void {
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
}

/** One SSE event; `event` is left out for APIs that only send `data:` lines (chat completions). */
export function writeEvent(response: ServerResponse, data: unknown, event?: string): void {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  response.write(`${event === undefined ? "" : `event: ${event}\n`}data: ${payload}\n\n`);
}

export function writeJSON(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

/** Splits a string in a few pieces, so streams carry more than one delta. */
export function chunks(text: string, pieces = 3): string[] {
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const result: string[] = [];
  for (let index = 0; index < text.length; index += size) result.push(text.slice(index, index + size));
  return result;
}
