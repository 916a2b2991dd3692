import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "./api-env.js";
import { jsonContent } from "./schemas.js";

const healthSchema = z
  .object({ status: z.literal("ok"), version: z.string() })
  .openapi("Health", { example: { status: "ok", version: "0.1.0" } });

const health = createRoute({
  method: "get",
  path: "/health",
  summary: "Whether the server answers, and its version",
  description: "Needs no token: load balancers and `ciab` itself probe it.",
  security: [],
  responses: { 200: jsonContent(healthSchema, "The server is up") },
});

export function healthRoutes(version: string) {
  return createRouter().openapi(health, (c) => c.json({ status: "ok" as const, version }, 200));
}
