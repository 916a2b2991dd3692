import type { Readable } from "node:stream";
import { CiabError } from "../protocol.js";

/** Largest JSON request body agentd accepts (exec stdin travels inside it). */
export const jsonBodyLimitBytes = 32 * 1024 * 1024;

export async function readBody(stream: Readable, limitBytes = jsonBodyLimitBytes): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      throw new CiabError("payload_too_large", `request body is over ${limitBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** Reads and parses a JSON object body; an empty body counts as `{}`. */
export async function readJSONBody(stream: Readable): Promise<Record<string, unknown>> {
  const body = await readBody(stream);
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new CiabError("invalid_json", "request body is not valid JSON", { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CiabError("invalid_request", "request body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}
