import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { Context } from "hono";
import { Hono } from "hono";
import type { ApiEnv } from "./api-env.js";

export interface WebUIOptions {
  /** The built UI (`packages/web/dist`); it may be missing, or appear after the server started. */
  directory: string;
  /** `[previews] domain`: its hosts are sandboxes' origins, where the UI is never served. */
  previewDomain?: string | undefined;
}

/** Paths of the server's own that an unknown page must not shadow: they answer the API's JSON 404. */
const reservedPrefixes = ["/api/", "/mcp", "/machine-downloads/", "/agent-channel/", "/sandbox/"];

/** Only the UI's own files, its own API calls, and no framing: a token pasted into the page stays there. */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  // No string ever becomes markup or script in the page: a future innerHTML of API data fails closed.
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Vite names what it builds `assets/<name>-<hash>.<ext>`: those never change, everything else may. */
const hashedAsset = /^\/assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ciab</title></head>
<body><h1>ciab</h1><p>The web UI is not built. Build it with <code>npm run build -w @ciab/web</code>
(scripts/install.sh does), then reload. The API is at <code>/api/v1</code>.</p></body></html>
`;

/**
 * The built web UI at `/`: its files as they are, and index.html for any other page so that client-side
 * routes load. Mounted after every other route, and it passes the server's own paths on, so the API, MCP,
 * previews and downloads keep precedence.
 */
export function webUIRoutes(options: WebUIOptions) {
  return new Hono<ApiEnv>().get("*", async (c, next) => {
    const urlPath = new URL(c.req.url).pathname;
    // Passed on rather than refused, so a route registered after this one still answers its own paths.
    if (reservedPrefixes.some((prefix) => urlPath.startsWith(prefix)) || onPreviewHost(c.req.header("host"), options.previewDomain)) return next();
    const root = await rootOf(options.directory);
    if (root === undefined) return answer(c, 503, Buffer.from(notBuiltPage), ".html", "no-store");

    const file = await fileUnder(root, urlPath);
    if (file !== undefined) {
      return answer(c, 200, await readFile(file), path.extname(file), hashedAsset.test(urlPath) ? "public, max-age=31536000, immutable" : "no-cache");
    }
    // A missing asset is an error, not a page: index.html under a script's name would only confuse.
    if (urlPath.startsWith("/assets/") || path.extname(urlPath) !== "") return c.notFound();
    return answer(c, 200, await readFile(path.join(root, "index.html")), ".html", "no-cache");
  });
}

function onPreviewHost(host: string | undefined, previewDomain: string | undefined): boolean {
  if (!previewDomain || !host) return false;
  const name = host.toLowerCase().replace(/:\d{1,5}$/, "");
  const domain = previewDomain.toLowerCase().replace(/:\d{1,5}$/, "");
  return name === domain || name.endsWith(`.${domain}`);
}

/** The build dir's real path when it holds an index.html. */
async function rootOf(directory: string): Promise<string | undefined> {
  try {
    const root = await realpath(directory);
    return (await stat(path.join(root, "index.html"))).isFile() ? root : undefined;
  } catch {
    return undefined;
  }
}

/** The regular file the URL path names inside root, its links resolved; undefined for anything else. */
async function fileUnder(root: string, urlPath: string): Promise<string | undefined> {
  const segments = urlPath.split("/").filter((segment) => segment !== "");
  if (segments.length === 0) return undefined;
  const names: string[] = [];
  for (const segment of segments) {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    if (name === "." || name === ".." || /[/\\\0]/.test(name)) return undefined;
    names.push(name);
  }
  try {
    const file = await realpath(path.join(root, ...names));
    if (!file.startsWith(root + path.sep)) return undefined;
    return (await stat(file)).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

function answer(c: Context<ApiEnv>, status: 200 | 503, body: Buffer, extension: string, cacheControl: string): Response {
  return c.body(new Uint8Array(body), status, {
    "content-type": contentTypes[extension] ?? "application/octet-stream",
    "cache-control": cacheControl,
    "content-security-policy": contentSecurityPolicy,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    // A page of the same origin (a path-based preview) that opens the UI gets no handle on its window.
    "cross-origin-opener-policy": "same-origin",
  });
}
