import { Readable } from "node:stream";
import type { Context } from "hono";
import { z } from "zod";
import { CiabError, sandboxPathSchema } from "@ciab/protocol";
import { uploadBody, type NodeBindings } from "../../api/files.js";
import type { FileService } from "../../services/file-service.js";
import type { SandboxService } from "../../services/sandbox-service.js";
import { readBounded } from "./connect-framing.js";
import { writtenInfo } from "./envd-entry.js";
import type { EnvdContext } from "./envd-process.js";

/**
 * envd's plain HTTP routes: `/health` (204 while the sandbox runs, 502 once it is gone, which E2B's
 * `isRunning` reads as false) and `/files` (download and upload), onto our file service.
 */
const pathQuery = z.object({ path: sandboxPathSchema.optional(), username: z.string().max(256).optional() });

function query(c: Context): z.infer<typeof pathQuery> {
  const parsed = pathQuery.safeParse(c.req.query());
  if (!parsed.success) throw new CiabError("invalid_request", `invalid query: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
  return parsed.data;
}

export function envdHTTPRoutes(sandboxes: SandboxService, files: FileService, multipartLimitBytes: number) {
  return {
    async health(c: Context, { principal, sandboxID }: EnvdContext): Promise<Response> {
      const record = await sandboxes.get(principal, sandboxID);
      return c.body(null, record.state === "ready" ? 204 : 502);
    },

    async download(c: Context, { principal, sandboxID }: EnvdContext): Promise<Response> {
      const { path } = query(c);
      if (!path) throw new CiabError("invalid_request", "path is required");
      const file = await files.download(principal, sandboxID, path);
      const headers = new Headers({ "content-type": "application/octet-stream", "content-length": String(file.size) });
      return new Response(Readable.toWeb(file.stream) as ReadableStream, { status: 200, headers });
    },

    /**
     * An octet-stream body streams to agentd as our upload route does (any size, one flow-control window of
     * memory); a multipart body is held whole to be parsed, so it is refused past `multipartLimitBytes`.
     */
    async upload(c: Context, { principal, sandboxID }: EnvdContext): Promise<Response> {
      const { path } = query(c);
      const contentType = c.req.header("content-type") ?? "";
      if (c.req.header("content-encoding")) throw new CiabError("unsupported_media_type", "compressed uploads are not accepted: send the bytes as they are");
      if (/^application\/octet-stream\b/i.test(contentType)) {
        if (!path) throw new CiabError("invalid_request", "path is required");
        const body = uploadBody(c.env as NodeBindings | undefined, () => c.req.raw.body);
        return c.json([writtenInfo(await files.write(principal, sandboxID, path, body))], 200);
      }
      if (!/^multipart\/form-data\b/i.test(contentType)) {
        throw new CiabError("unsupported_media_type", "send multipart/form-data or application/octet-stream");
      }
      const bytes = await readBounded(c, multipartLimitBytes);
      let form: FormData;
      try {
        form = await new Response(bytes, { headers: { "content-type": contentType } }).formData();
      } catch (error) {
        throw new CiabError("invalid_request", "the multipart body cannot be parsed", { cause: error });
      }
      const written = [];
      for (const part of form.getAll("file")) {
        if (typeof part === "string") throw new CiabError("invalid_request", "each `file` part must be a file");
        const target = sandboxPathSchema.safeParse(path ?? part.name);
        if (!target.success) throw new CiabError("invalid_request", "each file needs a path (the query's or the part's file name)");
        written.push(writtenInfo(await files.write(principal, sandboxID, target.data, Buffer.from(await part.arrayBuffer()))));
      }
      if (written.length === 0) throw new CiabError("invalid_request", "the multipart body holds no `file` part");
      return c.json(written, 200);
    },
  };
}
