import { createRoute, z } from "@hono/zod-openapi";
import { approvalIDSchema, approvalListQuerySchema, approvalSchema, decideApprovalSchema } from "@ciab/protocol";
import type { ApprovalService } from "../services/policy/approval-service.js";
import type { ToolService } from "../services/tools/tool-service.js";
import { createRouter } from "./api-env.js";
import { errorResponses, errorResponseSchema, jsonContent, named } from "./schemas.js";

const approval = named(approvalSchema, "Approval");
const idParams = z.object({ id: named(approvalIDSchema, { param: { name: "id", in: "path" } }) });
const optionalBody = { body: { required: false, content: { "application/json": { schema: named(decideApprovalSchema, "DecideApproval") } } } };
const decideResponses = {
  200: jsonContent(approval, "The decided approval; an approved one carries its call's outcome"),
  403: jsonContent(errorResponseSchema, "Not a workspace admin"),
  408: jsonContent(errorResponseSchema, "approval_timeout: it expired undecided"),
  ...errorResponses,
};

const list = createRoute({
  method: "get",
  path: "/approvals",
  summary: "List tool calls held for approval, oldest first (admins: the workspace's; members: their own)",
  request: { query: approvalListQuerySchema },
  responses: { 200: jsonContent(z.object({ approvals: z.array(approval), next: z.string().nullable() }), "A page of approvals"), ...errorResponses },
});

const get = createRoute({
  method: "get",
  path: "/approvals/{id}",
  summary: "Get an approval; with wait_secs, wait until it is decided and its call ran",
  request: { params: idParams, query: z.object({ wait_secs: z.coerce.number().int().min(0).max(3600).optional() }) },
  responses: { 200: jsonContent(approval, "The approval"), ...errorResponses },
});

const approve = createRoute({
  method: "post",
  path: "/approvals/{id}/approve",
  summary: "Approve a held tool call (workspace admins); it runs once, as the user who asked",
  request: { params: idParams, ...optionalBody },
  responses: decideResponses,
});

const deny = createRoute({
  method: "post",
  path: "/approvals/{id}/deny",
  summary: "Deny a held tool call (workspace admins); the call fails with approval_denied",
  request: { params: idParams, ...optionalBody },
  responses: decideResponses,
});

/** An empty note is no note. The body is optional: without one, `valid("json")` is undefined. */
function noteOf(body: { note?: string | undefined } | undefined): string | null {
  return body?.note ? body.note : null;
}

export function approvalRoutes(approvals: ApprovalService, tools: ToolService, maxWaitMs: number) {
  return createRouter()
    .openapi(list, async (c) => {
      const query = c.req.valid("query");
      const page = await approvals.list(c.var.principal, { state: query.state, sessionID: query.session_id, after: query.after, limit: query.limit });
      return c.json({ approvals: page.records.map(approvals.view), next: page.next }, 200);
    })
    .openapi(get, async (c) => {
      const { id } = c.req.valid("param");
      const waitMs = Math.min((c.req.valid("query").wait_secs ?? 0) * 1000, maxWaitMs);
      if (waitMs > 0) await tools.await(c.var.principal, id, waitMs, c.req.raw.signal).catch(() => undefined);
      return c.json(approvals.view(await approvals.get(c.var.principal, id)), 200);
    })
    .openapi(approve, async (c) => c.json(approvals.view(await tools.decide(c.var.principal, c.req.valid("param").id, "approved", noteOf(c.req.valid("json")))), 200))
    .openapi(deny, async (c) => c.json(approvals.view(await tools.decide(c.var.principal, c.req.valid("param").id, "denied", noteOf(c.req.valid("json")))), 200));
}
