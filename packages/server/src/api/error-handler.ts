import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { CiabError } from "@ciab/protocol";
import type { Logger } from "../logger.js";

/** Turns anything thrown by a handler into `{ error: { code, message } }` with the registry's status. */
export function toErrorResponse(error: unknown, context: Context, logger: Logger): Response {
  const ciabError = asCiabError(error);
  if (ciabError.code === "internal") {
    logger.error({ err: error, path: context.req.path }, "unhandled error");
  }
  const retryAfter = ciabError.context?.retry_after_seconds;
  if (typeof retryAfter === "number") context.header("retry-after", String(retryAfter));
  return context.json(ciabError.toBody(), ciabError.status as 400);
}

/** Our error for anything a handler or a validator threw; what is neither ours nor Hono's is `internal`. */
export function asCiabError(error: unknown): CiabError {
  if (error instanceof CiabError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 400 && /Malformed JSON/i.test(error.message)) {
      return new CiabError("invalid_json", "the request body is not valid JSON");
    }
    if (error.status === 413) return new CiabError("payload_too_large", "the request body is too large");
    return new CiabError("invalid_request", error.message);
  }
  return new CiabError("internal", "internal error", { cause: error });
}
