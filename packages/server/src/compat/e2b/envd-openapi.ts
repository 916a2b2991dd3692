import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { ApiEnv } from "../../api/api-env.js";
import { envdPrefix } from "./e2b-paths.js";

/**
 * envd's routes in the OpenAPI document. They are served by a plain router (Connect messages are not
 * JSON bodies the OpenAPI validator could read), so they are described here instead of declared by route.
 */
export function describeEnvd(app: OpenAPIHono<ApiEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "e2bApiKey", { type: "apiKey", in: "header", name: "X-API-Key" });
  app.openAPIRegistry.registerComponent("securitySchemes", "e2bAccessToken", { type: "apiKey", in: "header", name: "X-Access-Token" });
  const tags = ["e2b"];
  const security = [{ e2bAccessToken: [] }];
  const sandboxHeader = z.object({ "e2b-sandbox-id": z.string().openapi({ description: "The sandbox the access token was issued for" }) });
  const errorBody = { content: { "application/json": { schema: z.object({ code: z.number().int(), message: z.string() }) } } };
  const pathQuery = z.object({ path: z.string().openapi({ description: "A path under /workspace, or relative to it" }) });
  app.openAPIRegistry.registerPath({
    method: "get", path: `${envdPrefix}/health`, tags, security, summary: "envd: 204 while the sandbox runs, 502 once it is gone",
    request: { headers: sandboxHeader },
    responses: { 204: { description: "Running" }, 502: { description: "Not running", ...errorBody } },
  });
  app.openAPIRegistry.registerPath({
    method: "get", path: `${envdPrefix}/files`, tags, security, summary: "envd: download a file",
    request: { headers: sandboxHeader, query: pathQuery },
    responses: { 200: { description: "The file's bytes", content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } }, 404: { description: "No such file", ...errorBody } },
  });
  app.openAPIRegistry.registerPath({
    method: "post", path: `${envdPrefix}/files`, tags, security,
    summary: "envd: upload files (multipart, held whole up to [server] body_limit_bytes; or one octet-stream body, streamed)",
    request: {
      headers: sandboxHeader,
      query: pathQuery.partial(),
      body: { required: true, content: { "multipart/form-data": { schema: z.object({ file: z.string().openapi({ format: "binary" }) }) }, "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
    },
    responses: { 200: { description: "What was written", content: { "application/json": { schema: z.array(z.object({ name: z.string(), type: z.string(), path: z.string() })) } } } },
  });
  app.openAPIRegistry.registerPath({
    method: "post", path: `${envdPrefix}/{service}/{method}`, tags, security,
    summary: "envd: Connect RPC (JSON) of process.Process (Start, Connect, List, SendSignal, SendInput, CloseStdin, Update) and filesystem.Filesystem (Stat, ListDir, MakeDir, Move, Remove)",
    request: {
      headers: sandboxHeader,
      params: z.object({ service: z.enum(["process.Process", "filesystem.Filesystem"]), method: z.string() }),
      body: { required: true, content: { "application/json": { schema: z.record(z.string(), z.unknown()) }, "application/connect+json": { schema: z.string().openapi({ format: "binary" }) } } },
    },
    responses: {
      200: { description: "The answer; streaming methods answer enveloped messages ending with an end-of-stream envelope", content: { "application/json": { schema: z.record(z.string(), z.unknown()) } } },
      404: { description: "No such method", ...errorBody },
    },
  });
}
