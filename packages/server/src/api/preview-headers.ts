import type { IncomingHttpHeaders } from "node:http";

/** Our cookie: the preview token, after the first request carried it as `?token=`. */
export const previewCookieName = "ciab_preview";

/** Headers of one hop only (RFC 9110 §7.6.1); the proxy speaks its own connection to each side. */
const hopByHop = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"]);

/** The value of our cookie in a Cookie header, if any. */
export function previewCookie(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? "").split(";")) {
    const separator = part.indexOf("=");
    if (separator !== -1 && part.slice(0, separator).trim() === previewCookieName) return part.slice(separator + 1).trim();
  }
  return undefined;
}

export interface ForwardOptions {
  port: number;
  /** `/sandbox/preview/<sid>/<port>` for path-based previews; absent on a preview host. */
  prefix: string | undefined;
  /** Keep Upgrade and Connection: upgrade (a WebSocket handshake). */
  upgrade: boolean;
  secure: boolean;
  /** The connection to the app is pooled: ask it to stay open. */
  keepAlive?: boolean;
}

/**
 * What the sandbox's server sees: the caller's headers without our cookie, without the caller's
 * Authorization, without hop-by-hop headers; Host as the server would see it locally (dev servers refuse
 * unknown hosts), the public one in X-Forwarded-*.
 */
export function forwardedRequestHeaders(headers: IncomingHttpHeaders, options: ForwardOptions): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHop.has(name) || name === "authorization" || name === "host" || name === "cookie") continue;
    if (name.startsWith("x-forwarded-")) continue;
    result[name] = value;
  }
  const cookies = (headers.cookie ?? "")
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part !== "" && part.split("=", 1)[0]!.trim() !== previewCookieName);
  if (cookies.length > 0) result.cookie = cookies.join("; ");
  result.host = `localhost:${options.port}`;
  if (headers.host) result["x-forwarded-host"] = headers.host;
  result["x-forwarded-proto"] = options.secure ? "https" : "http";
  if (options.prefix) result["x-forwarded-prefix"] = options.prefix;
  if (options.upgrade) {
    if (headers.upgrade) result.upgrade = headers.upgrade;
    result.connection = "upgrade";
  } else {
    result.connection = options.keepAlive ? "keep-alive" : "close";
  }
  return result;
}

/**
 * Headers that speak for a whole origin. On a path-based preview that origin is the control plane's, the
 * web UI's among them: a service worker scoped to `/` would read the UI's requests (its token), the UI's
 * own opener policy would let the app script a UI window it opens, and Clear-Site-Data would empty the
 * UI's storage (docs/decisions/0051-path-previews-beside-the-web-ui.md).
 */
const originWideHeaders = new Set(["service-worker-allowed", "cross-origin-opener-policy", "clear-site-data"]);

/**
 * The sandbox's answer headers as raw pairs, for the caller: hop-by-hop headers dropped, and any
 * Set-Cookie for our cookie name dropped so the sandbox cannot replace or clear the caller's token.
 * `sharedOrigin` (a path-based preview) also drops the headers that speak for the whole origin.
 */
export function returnedResponseHeaders(rawHeaders: string[], options: { keepUpgrade?: boolean; sharedOrigin: boolean }): string[] {
  const result: string[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    const value = rawHeaders[index + 1]!;
    const lower = name.toLowerCase();
    if (hopByHop.has(lower) && !(options.keepUpgrade === true && (lower === "upgrade" || lower === "connection"))) continue;
    if (options.sharedOrigin && originWideHeaders.has(lower)) continue;
    if (lower === "set-cookie" && value.split("=", 1)[0]!.trim() === previewCookieName) continue;
    result.push(name, value);
  }
  return result;
}

/** Set-Cookie for the token, scoped to the preview's path (or its host, with no Domain attribute). */
export function previewCookieHeader(token: string, path: string, maxAgeSeconds: number, secure: boolean): string {
  const attributes = [`${previewCookieName}=${token}`, `Path=${path}`, `Max-Age=${Math.max(0, maxAgeSeconds)}`, "HttpOnly", "SameSite=Lax"];
  if (secure) attributes.push("Secure");
  return attributes.join("; ");
}
