import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ApiEnv } from "./api-env.js";

type OpenAPIDocument = ReturnType<OpenAPIHono<ApiEnv>["getOpenAPI31Document"]>;
const methods = ["get", "put", "post", "delete", "patch"] as const;

/**
 * Serves the OpenAPI 3.1 document, built once on first request (routes do not change after start).
 * Every operation gets an operationId derived from its method and path (`getSandboxesByIdFilesStat`),
 * so generated clients have stable names without each route file repeating one.
 */
export function serveOpenAPIDocument(app: OpenAPIHono<ApiEnv>, version: string): void {
  let document: OpenAPIDocument | undefined;
  app.get("/api/v1/openapi.json", (c) => {
    document ??= withOperationIDs(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title: "ciab", version, description: "Coding agents in a box: the control plane API." },
        servers: [{ url: "/", description: "This control plane" }],
        security: [{ bearer: [] }],
      }),
    );
    return c.json(document);
  });
}

function withOperationIDs(document: OpenAPIDocument): OpenAPIDocument {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of methods) {
      const operation = item[method];
      if (operation && operation.operationId === undefined) operation.operationId = operationID(method, path);
    }
  }
  return document;
}

function operationID(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1\//, "")
    .split("/")
    .flatMap((segment) => {
      const parameter = /^\{(.+)\}$/.exec(segment);
      return parameter ? ["by", ...parameter[1]!.split("_")] : segment.split(/[_-]/);
    });
  return method + words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join("");
}
