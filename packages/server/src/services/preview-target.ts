/** Which session and port a request is for, and the path the sandbox's server should see. */
export interface PreviewTarget {
  sessionID: string;
  port: number;
  /** Path and query as the app sees them: the prefix (path-based) removed, our `token` parameter removed. */
  upstreamPath: string;
  /** `?token=` of the request, if any. */
  queryToken: string | undefined;
  /** Where our cookie lives: the preview's path prefix, or `/` on a preview host. */
  cookiePath: string;
  /** The URL the browser should load once the query token became a cookie (path and query). */
  cleanURL: string;
  /** `/sandbox/preview/<sid>/<port>` for path-based previews; undefined on a preview host. */
  prefix: string | undefined;
  /** Where to send `/sandbox/preview/<sid>/<port>` (no trailing slash: relative links would miss the prefix). */
  slashRedirect: string | undefined;
}

export const previewPathPrefix = "/sandbox/preview/";
const sessionIDPattern = "(ses_[A-Za-z0-9]{1,60})";
const pathPattern = new RegExp(`^/sandbox/preview/${sessionIDPattern}/(\\d{1,5})(/.*)?$`);
const hostLabelPattern = new RegExp(`^(\\d{1,5})-${sessionIDPattern}$`);

/**
 * Reads a preview target from a request line and Host header, or undefined when the request is not a
 * preview. IDs are lower case (ids.ts), so a host name, which browsers lower-case, still names the session.
 */
export function parsePreviewTarget(rawURL: string, host: string | undefined, previewDomain: string | undefined): PreviewTarget | undefined {
  const url = new URL(rawURL, "http://preview.invalid");
  const originalSearch = url.search;
  const queryToken = url.searchParams.get("token") ?? undefined;
  url.searchParams.delete("token");
  const query = url.search;

  if (previewDomain && host) {
    const lower = host.toLowerCase();
    const name = previewDomain.includes(":") ? lower : lower.replace(/:\d{1,5}$/, "");
    const suffix = `.${previewDomain.toLowerCase()}`;
    if (name.endsWith(suffix)) {
      const match = hostLabelPattern.exec(name.slice(0, -suffix.length));
      if (!match) return undefined;
      const port = toPort(match[1]!);
      if (port === undefined) return undefined;
      return {
        sessionID: match[2]!,
        port,
        upstreamPath: url.pathname + query,
        queryToken,
        cookiePath: "/",
        cleanURL: url.pathname + query,
        prefix: undefined,
        slashRedirect: undefined,
      };
    }
  }

  if (!url.pathname.startsWith(previewPathPrefix)) return undefined;
  const match = pathPattern.exec(url.pathname);
  if (!match) return undefined;
  const port = toPort(match[2]!);
  if (port === undefined) return undefined;
  const prefix = `${previewPathPrefix}${match[1]}/${port}`;
  const rest = match[3] ?? "/";
  return {
    sessionID: match[1]!,
    port,
    upstreamPath: rest + query,
    queryToken,
    cookiePath: `${prefix}/`,
    cleanURL: `${prefix}${rest}${query}`,
    prefix,
    slashRedirect: match[3] === undefined ? `${prefix}/${originalSearch}` : undefined,
  };
}

function toPort(text: string): number | undefined {
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}
