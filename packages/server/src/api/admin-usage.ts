import { createRoute } from "@hono/zod-openapi";
import { usageQuerySchema, usageReportSchema } from "@ciab/protocol";
import type { UsageService } from "../services/usage-service.js";
import { createRouter } from "./api-env.js";
import { errorResponseSchema, errorResponses, jsonContent, named } from "./schemas.js";

const report = createRoute({
  method: "get",
  path: "/admin/usage",
  summary: "Compute usage by workspace, user, runtime and day",
  description:
    "Machine time and cost from the hourly ledger, over whole UTC days [from, to]. Installation admins see every " +
    "workspace (or one, with `workspace_id`); members and workspace admins see their own workspace only.",
  request: { query: usageQuerySchema },
  responses: {
    200: jsonContent(named(usageReportSchema, "UsageReport"), "Usage rows, grouped as asked"),
    403: jsonContent(errorResponseSchema, "Another workspace's usage, asked by anyone but an installation admin"),
    ...errorResponses,
  },
});

export function adminUsageRoutes(usage: UsageService) {
  return createRouter().openapi(report, async (c) => c.json(await usage.report(c.var.principal, c.req.valid("query")), 200));
}
