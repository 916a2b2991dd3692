import { Readable } from "node:stream";
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { downloadName, type Download } from "../services/artifact-downloads.js";
import type { ApiEnv } from "./api-env.js";

export const downloadQuerySchema = z.object({
  user: z.string().regex(/^usr_[0-9a-z]{26}$/, "a user id (usr_…)"),
  expires: z.coerce.number().int().min(0),
  signature: z.string().min(1).max(128),
  token: z.string().regex(/^tok_[0-9a-z]{26}$/).optional(),
});

/** Routes whose only credential is the signature in their query. */
export const signedDownloadRoute = /^\/api\/v1\/(artifacts|snapshots)\/[a-z]+_[0-9a-z]{26}\/download$/;

export function requestOrigin(url: string): string {
  return new URL(url).origin;
}

/**
 * The bytes as an attachment. Whatever a sandbox published is hostile: it is never rendered in the
 * control plane's origin (attachment, no sniffing, a sandboxing CSP). The bytes stream as the principal of
 * the token the URL was issued to, so its revoke cuts them (token-bound-connections.ts).
 */
export function downloadResponse(c: Context<ApiEnv>, download: Download): Response {
  if (download.kind === "redirect") return new Response(null, { status: 302, headers: { location: download.url } });
  if (download.holder) c.set("principal", download.holder);
  const { artifact } = download;
  const headers = new Headers({
    "content-type": artifact.mime,
    "content-length": String(artifact.size),
    "content-disposition": `attachment; filename="${downloadName(artifact)}"`,
    "x-content-type-options": "nosniff",
    "content-security-policy": "sandbox",
    "x-ciab-sha256": artifact.sha256,
  });
  return new Response(Readable.toWeb(download.stream) as ReadableStream, { status: 200, headers });
}
