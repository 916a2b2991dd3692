import { CiabError } from "@ciab/protocol";

/** RFC 3986 `pchar` minus `%`: what a path segment may hold literally. */
const literalSegment = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]*$/;
/** A percent escape of `.`, `/`, `\`, `%` itself (double encoding) or a control character, any case. */
const dangerousEscape = /%(2e|2f|5c|25|[01][0-9a-f]|7f)/i;

/**
 * The request path of a gateway call, cut into segments, or a `forbidden` error. The path is the agent's,
 * so it is hostile: an upstream, a proxy in front of it, or URL resolution on our side may read `..`,
 * `%2e%2e`, `%2f`, a backslash or `%252e` (decoded twice) as a climb out of the allowed routes with the real
 * key attached. So all of those are refused rather than normalised; only plain segments pass, and they are
 * forwarded exactly as they came. A trailing slash is kept; an empty segment anywhere else is refused.
 */
export function gatewayPathSegments(path: string): { segments: string[]; trailingSlash: boolean } {
  if (!path.startsWith("/")) throw refused("the path must start with /");
  const parts = path.slice(1).split("/");
  const trailingSlash = parts.length > 1 && parts.at(-1) === "";
  const segments = trailingSlash ? parts.slice(0, -1) : parts;
  for (const segment of segments) {
    if (segment === "") throw refused("empty path segments are not allowed");
    if (dangerousEscape.test(segment)) throw refused("encoded dots, slashes, backslashes, percent signs and control characters are not allowed");
    const literal = segment.replace(/%[0-9A-Fa-f]{2}/g, "");
    if (!literalSegment.test(literal)) throw refused("the path holds characters a model API never uses");
    if (segment === "." || segment === "..") throw refused("the gateway takes no . or .. path segments");
  }
  return { segments, trailingSlash };
}

function refused(why: string): CiabError {
  return new CiabError("forbidden", `path refused by the model gateway: ${why}`);
}
