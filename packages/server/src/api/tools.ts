import { createRoute, z } from "@hono/zod-openapi";
import { approvalPendingSchema, toolNames, type ToolName } from "@ciab/protocol";
import type { Principal } from "../services/auth-service.js";
import type { ShellService } from "../services/shell-service.js";
import type { ToolService } from "../services/tools/tool-service.js";
import { toolRegistry } from "../services/tools/tool-registry.js";
import { createRouter } from "./api-env.js";
import { requestOrigin } from "./download-response.js";
import { errorResponses, errorResponseSchema, jsonBody, jsonContent, named } from "./schemas.js";
import { streamOffsetFrames } from "./sse-offset-frames.js";

const sessionParams = z.object({ sid: z.string().min(1).max(64).openapi({ param: { name: "sid", in: "path" } }) });
export const waitQuery = z.object({
  wait: z.enum(["true", "false", "1", "0"]).optional().openapi({ description: "Wait for a held call's decision, up to [policy] approval_max_wait_seconds" }),
  wait_secs: z.coerce.number().int().min(0).max(3600).optional().openapi({ description: "Wait this long for a held call's decision" }),
});

/** How long a request asked to wait, in ms; `wait_secs` wins over `wait`. */
export function waitMsOf(query: z.infer<typeof waitQuery>, maxWaitMs: number): number {
  if (query.wait_secs !== undefined) return query.wait_secs * 1000;
  return query.wait === "true" || query.wait === "1" ? maxWaitMs : 0;
}

const pascal = (name: string) => name.replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());

function toolRoute(name: ToolName) {
  const tool = toolRegistry[name];
  return createRoute({
    method: "post",
    path: `/sessions/{sid}/tools/${name}`,
    summary: tool.description,
    description:
      "A call that a `[policy] tool_rules` rule holds answers 202 with the approval to wait on (or waits with `wait` / `wait_secs`); `approval_denied` and `approval_timeout` end it." +
      (name === "shell_stream" ? " With `Accept: text/event-stream` the answer is the stream's output itself." : ""),
    request: { params: sessionParams, query: waitQuery, ...jsonBody(named(tool.schema, `${pascal(name)}Arguments`)) },
    responses: {
      200: jsonContent(z.record(z.string(), z.unknown()), "The tool's result"),
      202: jsonContent(named(approvalPendingSchema, "ApprovalPending"), "Held for an admin's approval"),
      403: jsonContent(errorResponseSchema, "forbidden by policy, approval_denied, path_outside_sandbox"),
      408: jsonContent(errorResponseSchema, "approval_timeout"),
      ...errorResponses,
    },
  });
}

/** `POST /sessions/{sid}/tools/{name}` for each tool of the registry. */
export function toolRoutes(tools: ToolService, shell: ShellService, maxWaitMs: number) {
  const router = createRouter();
  for (const name of toolNames) {
    router.openapi(toolRoute(name), async (c) => {
      const principal: Principal = c.var.principal;
      const answer = await tools.call(principal, c.req.valid("param").sid, name, c.req.valid("json"), {
        origin: requestOrigin(c.req.url),
        waitMs: waitMsOf(c.req.valid("query"), maxWaitMs),
        signal: c.req.raw.signal,
      });
      if (answer.kind === "pending") return c.json({ approval: answer.approval }, 202) as never;
      const result = answer.result as Record<string, unknown>;
      if (name === "shell_stream" && /\btext\/event-stream\b/.test(c.req.header("accept") ?? "")) {
        const abort = new AbortController();
        const frames = await shell.tail(principal, result.sandbox_id as string, result.stream_id as string, 0, abort.signal);
        return streamOffsetFrames(c, frames, 0, abort) as never;
      }
      return c.json(result, 200) as never;
    });
  }
  return router;
}
