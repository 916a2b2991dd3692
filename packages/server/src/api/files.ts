import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createRoute, z } from "@hono/zod-openapi";
import { fileEntrySchema, fileModeSchema, mkdirSchema, portSchema, readFileSchema, renameSchema, writeFileSchema } from "@ciab/protocol";
import type { SizedBody } from "../agent-channel/raw-write.js";
import type { FileService } from "../services/file-service.js";
import { createRouter } from "./api-env.js";
import { errorResponses, flag, pathOutsideResponse, jsonBody, jsonContent, noQuery, pathQuery, rawBody, sandboxIDParams, named } from "./schemas.js";

const entry = named(fileEntrySchema, "FileEntry");

const list = createRoute({
  method: "get",
  path: "/sandboxes/{id}/files",
  summary: "List a directory",
  request: {
    params: sandboxIDParams,
    query: z.strictObject({ path: pathQuery.shape.path.default("/workspace"), depth: z.coerce.number().int().min(1).max(10).default(1) }),
  },
  responses: { 200: jsonContent(z.object({ entries: z.array(entry) }), "Entries"), ...errorResponses, ...pathOutsideResponse },
});

const stat = createRoute({
  method: "get",
  path: "/sandboxes/{id}/files/stat",
  summary: "Describe one path (symlinks are not followed)",
  request: { params: sandboxIDParams, query: pathQuery },
  responses: { 200: jsonContent(entry, "The entry"), ...errorResponses, ...pathOutsideResponse },
});

const read = createRoute({
  method: "get",
  path: "/sandboxes/{id}/files/read",
  summary: "Read a file of at most 10 MiB into JSON",
  request: { params: sandboxIDParams, query: pathQuery.extend({ encoding: z.enum(["utf8", "base64"]).default("utf8") }) },
  responses: { 200: jsonContent(readFileSchema, "The content"), ...errorResponses, ...pathOutsideResponse },
});

const write = createRoute({
  method: "post",
  path: "/sandboxes/{id}/files/write",
  summary: "Write a file from JSON (parents are created)",
  request: { params: sandboxIDParams, ...jsonBody(named(writeFileSchema, "WriteFile")) },
  responses: { 200: jsonContent(entry, "The written file"), ...errorResponses, ...pathOutsideResponse },
});

const upload = createRoute({
  method: "put",
  path: "/sandboxes/{id}/files/upload",
  summary: "Stream the raw request body into a file, any size",
  request: {
    params: sandboxIDParams,
    query: pathQuery.extend({ mode: named(fileModeSchema, { description: "Octal digits, as chmod takes them: 644, 0755" }).optional() }),
    body: rawBody("The file's bytes, streamed (any size)"),
  },
  responses: { 200: jsonContent(entry, "The written file"), ...errorResponses, ...pathOutsideResponse },
});

const download = createRoute({
  method: "get",
  path: "/sandboxes/{id}/files/download",
  summary: "Stream a file's bytes, any size",
  request: { params: sandboxIDParams, query: pathQuery },
  responses: {
    200: { content: { "application/octet-stream": { schema: z.string() } }, description: "The bytes" },
    ...errorResponses,
    ...pathOutsideResponse,
  },
});

const mkdir = createRoute({
  method: "post",
  path: "/sandboxes/{id}/files/mkdir",
  summary: "Create a directory",
  request: { params: sandboxIDParams, ...jsonBody(mkdirSchema) },
  responses: { 200: jsonContent(entry, "The directory"), ...errorResponses, ...pathOutsideResponse },
});

const rename = createRoute({
  method: "post",
  path: "/sandboxes/{id}/files/rename",
  summary: "Rename or move a path within the work dir",
  request: { params: sandboxIDParams, ...jsonBody(renameSchema) },
  responses: { 200: jsonContent(entry, "The renamed entry"), ...errorResponses, ...pathOutsideResponse },
});

const remove = createRoute({
  method: "delete",
  path: "/sandboxes/{id}/files",
  summary: "Remove a file or directory",
  request: { params: sandboxIDParams, query: pathQuery.extend({ recursive: flag.optional() }) },
  responses: { 200: jsonContent(z.object({ removed: z.literal(true) }), "Removed"), ...errorResponses, ...pathOutsideResponse },
});

const ports = createRoute({
  method: "get",
  path: "/sandboxes/{id}/ports",
  summary: "TCP ports listening inside the sandbox",
  request: { params: sandboxIDParams, query: noQuery },
  responses: { 200: jsonContent(z.object({ ports: z.array(portSchema) }), "Ports"), ...errorResponses },
});

export function fileRoutes(files: FileService) {
  return createRouter()
    .openapi(list, async (c) => {
      const { path, depth } = c.req.valid("query");
      return c.json({ entries: await files.list(c.var.principal, c.req.valid("param").id, path, depth) }, 200);
    })
    .openapi(stat, async (c) => c.json(await files.stat(c.var.principal, c.req.valid("param").id, c.req.valid("query").path), 200))
    .openapi(read, async (c) => {
      const { path, encoding } = c.req.valid("query");
      return c.json(await files.read(c.var.principal, c.req.valid("param").id, path, encoding), 200);
    })
    .openapi(write, async (c) => {
      const body = c.req.valid("json");
      const content = Buffer.from(body.content, body.encoding ?? "utf8");
      return c.json(await files.write(c.var.principal, c.req.valid("param").id, body.path, content, body.mode), 200);
    })
    .openapi(upload, async (c) => {
      const { path, mode } = c.req.valid("query");
      const body = uploadBody(c.env as NodeBindings | undefined, () => c.req.raw.body);
      return c.json(await files.write(c.var.principal, c.req.valid("param").id, path, body, mode), 200);
    })
    .openapi(download, async (c) => {
      const file = await files.download(c.var.principal, c.req.valid("param").id, c.req.valid("query").path);
      const headers = new Headers({
        "content-type": "application/octet-stream",
        "content-length": String(file.size),
        "x-ciab-mode": String(file.mode),
      });
      return new Response(Readable.toWeb(file.stream) as ReadableStream, { status: 200, headers }) as never;
    })
    .openapi(mkdir, async (c) => c.json(await files.mkdir(c.var.principal, c.req.valid("param").id, c.req.valid("json")), 200))
    .openapi(rename, async (c) => {
      const { from, to } = c.req.valid("json");
      return c.json(await files.rename(c.var.principal, c.req.valid("param").id, from, to), 200);
    })
    .openapi(remove, async (c) => {
      const { path, recursive } = c.req.valid("query");
      return c.json(await files.remove(c.var.principal, c.req.valid("param").id, path, recursive ?? false), 200);
    })
    .openapi(ports, async (c) => c.json({ ports: await files.ports(c.var.principal, c.req.valid("param").id) }, 200));
}


/** What @hono/node-server hands the app beside the request; absent under `app.request()`. */
export interface NodeBindings {
  incoming?: IncomingMessage;
}

/**
 * The upload as the Node request itself when the app runs on a Node server: the Fetch API's body is a web
 * stream over the same bytes, and turning it back into a Node stream costs a promise per chunk. With its
 * content-length (Node's parser holds the body to it) it can go to agentd as a raw write.
 */
export function uploadBody(bindings: NodeBindings | undefined, webBody: () => ReadableStream<Uint8Array> | null): Readable | Buffer | SizedBody {
  // Only one of the two may be touched: the web stream starts reading the Node request when it is made.
  const incoming = bindings?.incoming;
  if (incoming !== undefined) {
    const declared = incoming.headers["content-length"];
    const chunked = incoming.headers["transfer-encoding"] !== undefined;
    return declared !== undefined && !chunked && /^\d{1,15}$/.test(declared) ? { stream: incoming, length: Number(declared) } : incoming;
  }
  const web = webBody();
  return web ? Readable.fromWeb(web as WebReadableStream) : Buffer.alloc(0);
}
