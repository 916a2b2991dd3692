import { createRoute } from "@hono/zod-openapi";
import { auditPageSchema, auditQuerySchema } from "@ciab/protocol";
import type { AuditLog } from "../services/audit/audit-log.js";
import { createRouter } from "./api-env.js";
import { errorResponses, errorResponseSchema, jsonContent, named } from "./schemas.js";

const list = createRoute({
  method: "get",
  path: "/audit",
  summary: "The audit trail of tool calls, oldest first (admins: the workspace's; members: their own)",
  request: { query: auditQuerySchema },
  responses: {
    200: jsonContent(named(auditPageSchema, "AuditPage"), "A page of entries; pass `next` as `cursor` for the next one"),
    403: jsonContent(errorResponseSchema, "A member asked for another actor"),
    ...errorResponses,
  },
});

export function auditRoutes(audit: AuditLog) {
  return createRouter().openapi(list, async (c) => c.json(await audit.list(c.var.principal, c.req.valid("query")), 200));
}
