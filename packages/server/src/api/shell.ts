import { createRoute, z } from "@hono/zod-openapi";
import { shellStreamRequestSchema, shellStreamSchema } from "@ciab/protocol";
import type { ShellService } from "../services/shell-service.js";
import { createRouter } from "./api-env.js";
import { errorResponses, jsonBody, jsonContent, sandboxIDParams, named } from "./schemas.js";
import { streamOffsetFrames } from "./sse-offset-frames.js";

const streamParams = sandboxIDParams.extend({
  stream_id: z.string().min(1).max(20).openapi({ param: { name: "stream_id", in: "path" }, example: "4242" }),
});
const tailQuery = z.object({
  offset: z.coerce.number().int().nonnegative().optional().openapi({
    description: "Byte offset to start from; `Last-Event-ID` wins when both are sent",
  }),
});
const tailHeaders = z.object({
  "last-event-id": z.string().regex(/^\d+$/).optional().openapi({ description: "Resume after this event" }),
});

const startStream = createRoute({
  method: "post",
  path: "/sandboxes/{id}/shell/stream",
  summary: "Start a shell command in the background (bash -lc) and get a stream id to tail",
  description: "stderr is folded into stdout; the whole output is kept in the sandbox while the stream is listed.",
  request: { params: sandboxIDParams, ...jsonBody(named(shellStreamRequestSchema, "ShellStreamRequest")) },
  responses: { 201: jsonContent(named(shellStreamSchema, "ShellStream"), "The stream"), ...errorResponses },
});

const tailStream = createRoute({
  method: "get",
  path: "/sandboxes/{id}/shell/stream/{stream_id}",
  summary: "Tail a shell stream as server-sent events, from the start or from `Last-Event-ID`",
  request: { params: streamParams, query: tailQuery, headers: tailHeaders },
  responses: {
    200: {
      content: { "text/event-stream": { schema: z.string() } },
      description: "exec.start, exec.output (base64), exec.exit; every id is the byte offset reached, to resume from",
    },
    ...errorResponses,
  },
});

export function shellRoutes(shell: ShellService) {
  return createRouter()
    .openapi(startStream, async (c) =>
      c.json(await shell.start(c.var.principal, c.req.valid("param").id, c.req.valid("json")), 201),
    )
    .openapi(tailStream, async (c) => {
      const { id, stream_id: streamID } = c.req.valid("param");
      const lastEventID = c.req.valid("header")["last-event-id"];
      const offset = lastEventID !== undefined ? Number(lastEventID) : (c.req.valid("query").offset ?? 0);
      const abort = new AbortController();
      const frames = await shell.tail(c.var.principal, id, streamID, offset, abort.signal);
      return streamOffsetFrames(c, frames, offset, abort) as never;
    });
}
