import type { Context } from "hono";
import { stream } from "hono/streaming";
import { CiabError } from "@ciab/protocol";
import type { z } from "zod";
import type { Logger } from "../../logger.js";
import { asCiabError, connectCode, connectStatus } from "./e2b-errors.js";

/**
 * Connect's protocol with JSON messages (connectrpc.com/docs/protocol), which E2B's SDK speaks to envd
 * (`useBinaryFormat: false`). A unary call is a plain JSON body and answer; a server-streaming call sends one
 * enveloped message and gets enveloped messages back, each a 5-byte header (flags, big-endian length) and
 * the JSON, ending with an end-of-stream envelope (flag 0x02) that carries the error, if any.
 */
const endStreamFlag = 0x02;
const compressedFlag = 0x01;
const headerBytes = 5;

export const streamingContentType = "application/connect+json";

export function envelope(message: unknown, flags = 0): Uint8Array {
  const json = Buffer.from(JSON.stringify(message));
  const framed = Buffer.allocUnsafe(headerBytes + json.length);
  framed.writeUInt8(flags, 0);
  framed.writeUInt32BE(json.length, 1);
  json.copy(framed, headerBytes);
  return framed;
}

/** Reads a request body whole, refusing it past `limit` bytes however it is sent (length or chunked). */
export async function readBounded(c: Context, limit: number): Promise<Buffer> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limit) throw new CiabError("payload_too_large", `the request body is larger than ${limit} bytes`);
  const body = c.req.raw.body;
  if (!body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw new CiabError("payload_too_large", `the request body is larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function parseJSON<T extends z.ZodType>(text: string, schema: T): z.output<T> {
  let value: unknown;
  try {
    value = JSON.parse(text === "" ? "{}" : text);
  } catch {
    throw new CiabError("invalid_json", "the request message is not valid JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const summary = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(message)"}: ${issue.message}`).join("; ");
    throw new CiabError("invalid_request", `invalid message: ${summary}`);
  }
  return parsed.data;
}

/** The one message of a unary call. */
export async function unaryRequest<T extends z.ZodType>(c: Context, schema: T, limit: number): Promise<z.output<T>> {
  if (!/^application\/json\b/i.test(c.req.header("content-type") ?? "")) {
    throw new CiabError("unsupported_media_type", "send Connect's JSON encoding (content-type application/json)");
  }
  return parseJSON((await readBounded(c, limit)).toString("utf8"), schema);
}

/** The one enveloped message of a server-streaming call. */
export async function streamingRequest<T extends z.ZodType>(c: Context, schema: T, limit: number): Promise<z.output<T>> {
  if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith(streamingContentType)) {
    throw new CiabError("unsupported_media_type", `send Connect's JSON streaming encoding (content-type ${streamingContentType})`);
  }
  const body = await readBounded(c, limit + headerBytes);
  if (body.length < headerBytes) throw new CiabError("invalid_request", "the request holds no Connect envelope");
  const flags = body.readUInt8(0);
  const length = body.readUInt32BE(1);
  if (flags & compressedFlag) throw new CiabError("invalid_request", "compressed messages are not accepted");
  if (length !== body.length - headerBytes) throw new CiabError("invalid_request", "the Connect envelope's length does not match its body");
  return parseJSON(body.subarray(headerBytes).toString("utf8"), schema);
}

export function unaryAnswer(c: Context, message: unknown): Response {
  return c.json(message as object, 200);
}

/** A bug is logged; what the client reads of it is only that it was internal. */
function report(ciabError: CiabError, error: unknown, c: Context, logger: Logger): void {
  if (ciabError.code === "internal") logger.error({ err: error, path: c.req.path }, "unhandled error");
}

export function unaryError(c: Context, error: unknown, logger: Logger): Response {
  const ciabError = asCiabError(error);
  report(ciabError, error, c, logger);
  const code = connectCode(ciabError);
  return c.json({ code, message: ciabError.message }, connectStatus[code] as 400);
}

export interface MessageWriter {
  write(message: unknown): Promise<void>;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

/**
 * Answers a server-streaming call: `produce` writes messages until it returns; what it throws ends the
 * stream with a Connect error, as the protocol carries errors after the headers.
 */
export function streamingAnswer(c: Context, logger: Logger, produce: (writer: MessageWriter) => Promise<void>): Response {
  c.header("content-type", streamingContentType);
  return stream(c, async (output) => {
    const abort = new AbortController();
    output.onAbort(() => abort.abort());
    let end: unknown = {};
    try {
      await produce({ write: (message) => output.write(envelope(message)).then(() => undefined), signal: abort.signal });
    } catch (error) {
      if (abort.signal.aborted) return;
      const ciabError = asCiabError(error);
      report(ciabError, error, c, logger);
      end = { error: { code: connectCode(ciabError), message: ciabError.message } };
    }
    await output.write(envelope(end, endStreamFlag));
  });
}
