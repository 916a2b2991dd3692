import { createRoute, z } from "@hono/zod-openapi";
import { secretNameSchema, secretSchema, setSecretSchema } from "@ciab/protocol";
import type { SecretService } from "../services/secret-service.js";
import { createRouter } from "./api-env.js";
import { errorResponses, jsonBody, jsonContent, named, noQuery } from "./schemas.js";

const nameParams = z.object({ name: named(secretNameSchema, { param: { name: "name", in: "path" }, example: "ANTHROPIC_API_KEY" }) });

const put = createRoute({
  method: "put",
  path: "/secrets/{name}",
  summary: "Set a workspace secret (sealed at rest; never returned)",
  request: { params: nameParams, ...jsonBody(setSecretSchema) },
  responses: { 200: jsonContent(secretSchema, "The secret's name and dates"), ...errorResponses },
});

const list = createRoute({
  method: "get",
  path: "/secrets",
  summary: "List secret names",
  request: { query: noQuery },
  responses: { 200: jsonContent(z.object({ secrets: z.array(secretSchema) }), "Names and dates"), ...errorResponses },
});

const remove = createRoute({
  method: "delete",
  path: "/secrets/{name}",
  summary: "Delete a secret",
  request: { params: nameParams },
  responses: { 200: jsonContent(z.object({ deleted: z.literal(true) }), "Deleted"), ...errorResponses },
});

export function secretRoutes(secrets: SecretService) {
  return createRouter()
    .openapi(put, async (c) => c.json(await secrets.set(c.var.principal, c.req.valid("param").name, c.req.valid("json").value), 200))
    .openapi(list, async (c) => c.json({ secrets: await secrets.list(c.var.principal) }, 200))
    .openapi(remove, async (c) => {
      await secrets.delete(c.var.principal, c.req.valid("param").name);
      return c.json({ deleted: true as const }, 200);
    });
}
