import { createRoute, z } from "@hono/zod-openapi";
import { artifactIDSchema, artifactListSchema, artifactSchema, listQuerySchema, publishArtifactSchema } from "@ciab/protocol";
import type { ArtifactService } from "../services/artifact-service.js";
import type { DownloadLinks } from "../services/artifact-downloads.js";
import { createRouter } from "./api-env.js";
import { downloadResponse, downloadQuerySchema, requestOrigin } from "./download-response.js";
import { errorResponses, errorResponseSchema, jsonBody, jsonContent, named } from "./schemas.js";

const artifact = named(artifactSchema, "Artifact");
const idParams = z.object({ id: named(artifactIDSchema, { param: { name: "id", in: "path" } }) });
const scanResponses = {
  403: jsonContent(errorResponseSchema, "artifact_infected, or a path outside the sandbox"),
  503: jsonContent(errorResponseSchema, "scanner_unavailable or artifact_store_unavailable: nothing was recorded"),
};

const publish = createRoute({
  method: "post",
  path: "/artifacts",
  summary: "Publish a file of a sandbox as an artifact",
  description: "Streams the file from the sandbox into the artifact store (hashed, scanned when scanning is on).",
  request: { ...jsonBody(named(publishArtifactSchema, "PublishArtifact")) },
  responses: { 201: jsonContent(artifact, "The artifact"), ...errorResponses, ...scanResponses },
});

const list = createRoute({
  method: "get",
  path: "/artifacts",
  summary: "List artifacts, oldest first",
  request: { query: listQuerySchema },
  responses: { 200: jsonContent(artifactListSchema, "A page of artifacts"), ...errorResponses },
});

const get = createRoute({
  method: "get",
  path: "/artifacts/{id}",
  summary: "Get an artifact with a fresh signed download URL",
  request: { params: idParams },
  responses: { 200: jsonContent(artifact, "The artifact"), ...errorResponses },
});

const remove = createRoute({
  method: "delete",
  path: "/artifacts/{id}",
  summary: "Delete an artifact and its bytes",
  request: { params: idParams },
  responses: { 200: jsonContent(z.object({ deleted: z.literal(true) }), "Deleted"), ...errorResponses },
});

const download = createRoute({
  method: "get",
  path: "/artifacts/{id}/download",
  summary: "Download an artifact's bytes through its signed URL (no bearer token)",
  security: [],
  request: { params: idParams, query: downloadQuerySchema },
  responses: {
    200: { content: { "application/octet-stream": { schema: z.string() } }, description: "The bytes" },
    302: { description: "Redirect to the object store's presigned URL" },
    403: jsonContent(errorResponseSchema, "Bad or expired signature, or artifact_infected"),
    429: jsonContent(errorResponseSchema, "rate_limited: the user's hourly download bytes are spent (Retry-After)"),
    ...errorResponses,
    401: jsonContent(errorResponseSchema, "The token the URL was issued to was revoked or expired, or its user removed"),
  },
});

export function artifactRoutes(artifacts: ArtifactService, downloads: DownloadLinks) {
  return createRouter()
    .openapi(publish, async (c) => {
      const record = await artifacts.publish(c.var.principal, c.req.valid("json"), c.req.raw.signal);
      return c.json(await artifacts.view(record, c.var.principal, requestOrigin(c.req.url)), 201);
    })
    .openapi(list, async (c) => {
      const query = c.req.valid("query");
      const page = await artifacts.list(c.var.principal, {
        sessionID: query.session_id,
        sandboxID: query.sandbox_id,
        after: query.after,
        limit: query.limit,
      });
      const origin = requestOrigin(c.req.url);
      return c.json({ artifacts: await Promise.all(page.records.map((record) => artifacts.view(record, c.var.principal, origin))), next: page.next }, 200);
    })
    .openapi(get, async (c) => {
      const record = await artifacts.get(c.var.principal, c.req.valid("param").id);
      return c.json(await artifacts.view(record, c.var.principal, requestOrigin(c.req.url)), 200);
    })
    .openapi(remove, async (c) => {
      await artifacts.delete(c.var.principal, c.req.valid("param").id);
      return c.json({ deleted: true as const }, 200);
    })
    .openapi(download, async (c) => downloadResponse(c, await downloads.open(c.req.valid("param").id, c.req.valid("query"))) as never);
}

