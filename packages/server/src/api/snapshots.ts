import { createRoute, z } from "@hono/zod-openapi";
import { createSnapshotSchema, listQuerySchema, snapshotIDSchema, snapshotListSchema, snapshotSchema } from "@ciab/protocol";
import type { DownloadLinks } from "../services/artifact-downloads.js";
import { snapshotView, type SnapshotService } from "../services/snapshot-service.js";
import type { ArtifactRecord } from "../store/records.js";
import type { Principal } from "../services/auth-service.js";
import { createRouter } from "./api-env.js";
import { downloadQuerySchema, downloadResponse, requestOrigin } from "./download-response.js";
import { errorResponses, errorResponseSchema, jsonContent, named, sandboxIDParams } from "./schemas.js";

const snapshot = named(snapshotSchema, "Snapshot");
const idParams = z.object({ id: named(snapshotIDSchema, { param: { name: "id", in: "path" } }) });
const sessionParams = z.object({ sid: z.string().min(1).max(64).openapi({ param: { name: "sid", in: "path" } }) });
const optionalBody = { body: { required: false, content: { "application/json": { schema: named(createSnapshotSchema, "CreateSnapshot") } } } };
const storeResponses = { 503: jsonContent(errorResponseSchema, "artifact_store_unavailable: nothing was recorded") };

const ofSession = createRoute({
  method: "post",
  path: "/sessions/{sid}/snapshot",
  summary: "Snapshot the work dir of a session's sandbox",
  request: { params: sessionParams, ...optionalBody },
  responses: { 201: jsonContent(snapshot, "The snapshot"), ...errorResponses, ...storeResponses },
});

const ofSandbox = createRoute({
  method: "post",
  path: "/sandboxes/{id}/snapshot",
  summary: "Snapshot a sandbox's work dir",
  request: { params: sandboxIDParams, ...optionalBody },
  responses: { 201: jsonContent(snapshot, "The snapshot"), ...errorResponses, ...storeResponses },
});

const list = createRoute({
  method: "get",
  path: "/snapshots",
  summary: "List snapshots, oldest first",
  request: { query: listQuerySchema },
  responses: { 200: jsonContent(snapshotListSchema, "A page of snapshots"), ...errorResponses },
});

const get = createRoute({
  method: "get",
  path: "/snapshots/{id}",
  summary: "Get a snapshot",
  request: { params: idParams },
  responses: { 200: jsonContent(snapshot, "The snapshot"), ...errorResponses },
});

const remove = createRoute({
  method: "delete",
  path: "/snapshots/{id}",
  summary: "Delete a snapshot and its tarball",
  request: { params: idParams },
  responses: { 200: jsonContent(z.object({ deleted: z.literal(true) }), "Deleted"), ...errorResponses },
});

const download = createRoute({
  method: "get",
  path: "/snapshots/{id}/download",
  summary: "Download a snapshot's tarball through its signed URL (no bearer token)",
  security: [],
  request: { params: idParams, query: downloadQuerySchema },
  responses: {
    200: { content: { "application/gzip": { schema: z.string() } }, description: "The tarball" },
    403: jsonContent(errorResponseSchema, "Bad or expired signature"),
    429: jsonContent(errorResponseSchema, "rate_limited (Retry-After)"),
    ...errorResponses,
    401: jsonContent(errorResponseSchema, "The token the URL was issued to was revoked or expired, or its user removed"),
  },
});

export function snapshotRoutes(snapshots: SnapshotService, downloads: DownloadLinks) {
  const withURL = async (record: ArtifactRecord, caller: Principal, url: string) => ({
    ...snapshotView(record),
    download_url: (await downloads.link(record, caller, requestOrigin(url))).url,
  });
  return createRouter()
    .openapi(ofSession, async (c) => {
      const record = await snapshots.create(c.var.principal, { sessionID: c.req.valid("param").sid }, c.req.valid("json")?.label, c.req.raw.signal);
      return c.json(await withURL(record, c.var.principal, c.req.url), 201);
    })
    .openapi(ofSandbox, async (c) => {
      const record = await snapshots.create(c.var.principal, { sandboxID: c.req.valid("param").id }, c.req.valid("json")?.label, c.req.raw.signal);
      return c.json(await withURL(record, c.var.principal, c.req.url), 201);
    })
    .openapi(list, async (c) => {
      const query = c.req.valid("query");
      const page = await snapshots.list(c.var.principal, { sessionID: query.session_id, sandboxID: query.sandbox_id, after: query.after, limit: query.limit });
      return c.json({ snapshots: await Promise.all(page.records.map((record) => withURL(record, c.var.principal, c.req.url))), next: page.next }, 200);
    })
    .openapi(get, async (c) => c.json(await withURL(await snapshots.get(c.var.principal, c.req.valid("param").id), c.var.principal, c.req.url), 200))
    .openapi(remove, async (c) => {
      await snapshots.delete(c.var.principal, c.req.valid("param").id);
      return c.json({ deleted: true as const }, 200);
    })
    .openapi(download, async (c) => downloadResponse(c, await downloads.open(c.req.valid("param").id, c.req.valid("query"))) as never);
}

