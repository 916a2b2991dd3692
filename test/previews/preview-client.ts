import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { SessionPort } from "@ciab/protocol";
import type { Ciab } from "../../packages/sdk/src/index.js";
import { createPreviewTokens, type PreviewTokens } from "../../packages/server/src/services/preview-tokens.js";

export interface PreviewAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request to the control plane with any Host header (fetch would not send one of ours). */
export function previewRequest(
  serverURL: string,
  target: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<PreviewAnswer> {
  const base = new URL(serverURL);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: base.hostname, port: base.port, method: options.method ?? "GET", path: target, headers: options.headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.once("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.once("error", reject);
      },
    );
    request.once("error", reject);
    request.end(options.body);
  });
}

/** The part of a URL after its origin. */
export const pathOf = (url: string): string => {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
};

/** `name=value` of the first Set-Cookie for `name`. */
export function cookieFrom(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  return (headers["set-cookie"] ?? []).find((line) => line.startsWith(`${name}=`))?.split(";", 1)[0];
}

/** Polls the session's ports until `port` listens. */
export async function waitForPort(ciab: Ciab, sessionID: string, port: number, timeoutMs = 15_000): Promise<SessionPort> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await ciab.sessions.ports(sessionID).catch(() => [])).find((entry) => entry.port === port);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`port ${port} of ${sessionID} did not listen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Tokens signed with the server's own key, for grants the API would never hand out (expired, other ports). */
export function serverTokens(dataDirectory: string, now?: () => number): PreviewTokens {
  const key = Buffer.from(readFileSync(path.join(dataDirectory, "preview-key"), "utf8").trim(), "base64");
  return createPreviewTokens(key, 600, now);
}
