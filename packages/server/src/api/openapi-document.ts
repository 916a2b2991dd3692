import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ApiEnv } from "./api-env.js";
import { completeDocument, type OpenAPIDocument } from "./openapi-completion.js";

/** Serves the OpenAPI 3.1 document, built once on first request (routes do not change after start). */
export function serveOpenAPIDocument(app: OpenAPIHono<ApiEnv>, version: string): void {
  let document: OpenAPIDocument | undefined;
  app.get("/api/v1/openapi.json", (c) => {
    document ??= completeDocument(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "ciab",
          version,
          description:
            "Coding agents in a box: the control plane API. Send `Authorization: Bearer <token>`; every error answer " +
            "is `{ error: { code, message, context? } }`. Event streams are server-sent events whose `data` is one JSON " +
            "object per event (exec output bytes base64-encoded in it).",
        },
        servers: [{ url: "/", description: "This control plane (the document is served by it)" }],
        security: [{ bearer: [] }],
      }),
    );
    return c.json(document);
  });
}
