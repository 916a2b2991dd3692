import type { MiddlewareHandler } from "hono";
import { CiabError } from "@ciab/protocol";
import type { ApiEnv } from "./api-env.js";

/**
 * Refuses a URL with a malformed percent-encoding anywhere, path or query, names or values: routers and
 * query parsers each forgive it differently (keep the raw text, drop the key), so one rule up front.
 */
export function refuseMalformedURLs(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const url = c.req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    if (start !== -1 && url.includes("%", start)) {
      for (const part of url.slice(start).split(/[?&=]/)) {
        try {
          decodeURIComponent(part);
        } catch {
          throw new CiabError("invalid_request", "the URL holds a malformed percent-encoding");
        }
      }
    }
    return next();
  };
}
