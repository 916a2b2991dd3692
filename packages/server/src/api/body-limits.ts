import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { CiabError } from "@ciab/protocol";
import type { ApiEnv } from "./api-env.js";

export interface BodyLimits {
  /** Largest JSON body, read whole before validation. */
  jsonBytes: number;
  /** Largest raw body written to a process's stdin in one request. */
  stdinBytes: number;
}

/**
 * The only routes whose body is not JSON, matched on the whole path: a suffix test would let
 * `PUT /secrets/stdin` skip the JSON limit. Uploads stream to agentd with flow control, so any size costs
 * one window of memory; stdin is a bounded raw body.
 */
const uploadRoute = /^\/api\/v1\/sandboxes\/[^/]+\/files\/upload$/;
const stdinRoute = /^\/api\/v1\/sandboxes\/[^/]+\/processes\/[^/]+\/stdin$/;

/**
 * Bounds every request body before authentication or any lookup runs: a JSON body is refused past its
 * limit (by its content-length, or while it is read when it is chunked), stdin likewise, uploads stream.
 */
export function bodyLimits(limits: BodyLimits): MiddlewareHandler<ApiEnv> {
  const limited = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new CiabError("payload_too_large", `the request body is larger than ${maxSize} bytes`);
      },
    });
  const json = limited(limits.jsonBytes);
  const stdin = limited(limits.stdinBytes);
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    if (method === "PUT" && uploadRoute.test(path)) return next();
    if (method === "POST" && stdinRoute.test(path)) return stdin(c, next);
    if (method !== "POST" && method !== "PUT" && method !== "PATCH") return json(c, next);
    const contentType = c.req.header("content-type");
    const length = c.req.header("content-length");
    const hasBody = (length !== undefined && length !== "0") || c.req.header("transfer-encoding") !== undefined;
    if (hasBody && contentType && !/^application\/json\b/i.test(contentType)) {
      throw new CiabError("unsupported_media_type", `send JSON with content-type application/json (got ${contentType})`);
    }
    return json(c, next);
  };
}
