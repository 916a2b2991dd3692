import { constants, type ServerHttp2Stream } from "node:http2";
import { CiabError } from "../protocol.js";

const jsonHeaders = { "content-type": "application/json" } as const;

/** Answers with a JSON body; a no-op when the peer already went away. */
export function respondJSON(stream: ServerHttp2Stream, body: unknown, status = 200): void {
  if (stream.destroyed || stream.closed) return;
  const payload = JSON.stringify(body);
  stream.respond({ ":status": status, ...jsonHeaders, "content-length": Buffer.byteLength(payload) });
  stream.end(payload);
}

/**
 * Turns any failure into the error answer of the agent channel. Once headers went out there is no way to
 * send a status any more, so the stream is reset instead and the client sees a stream error.
 */
export function respondError(stream: ServerHttp2Stream, error: unknown): void {
  if (stream.destroyed || stream.closed) return;
  const ciabError = toCiabError(error);
  if (stream.headersSent) {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  respondJSON(stream, ciabError.toBody(), ciabError.status);
}

export function toCiabError(error: unknown): CiabError {
  if (error instanceof CiabError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CiabError("internal", message, { cause: error });
}
