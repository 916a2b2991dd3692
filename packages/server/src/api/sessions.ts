import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { CiabError, createSessionSchema, sessionEventSchema, sessionSchema, sessionStates } from "@ciab/protocol";
import { toServerSentEvent, type EventService } from "../services/event-service.js";
import type { VolumeService } from "../services/volume-service.js";
import type { SessionService } from "../services/session-service.js";
import { createRouter } from "./api-env.js";
import { costCapResponse, errorResponses, jsonBody, jsonContent, named } from "./schemas.js";
import { sessionView } from "./session-view.js";

const session = named(sessionSchema, "Session");
const sessionIDParams = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) });

const create = createRoute({
  method: "post",
  path: "/sessions",
  summary: "Start an agent session",
  description: "With `prompt`: headless, the agent runs it and exits. Without: interactive (attach to its TUI).",
  request: jsonBody(named(createSessionSchema, { ref: "CreateSession", example: { provider: "claude-code", prompt: "Add a test for the parser" } })),
  responses: { 201: jsonContent(session, "The session, state pending"), ...errorResponses, ...costCapResponse },
});

const list = createRoute({
  method: "get",
  path: "/sessions",
  summary: "List sessions, newest first",
  request: {
    query: z.strictObject({
      state: z.enum(sessionStates).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: { 200: jsonContent(z.object({ sessions: z.array(session) }), "Sessions"), ...errorResponses },
});

const get = createRoute({
  method: "get",
  path: "/sessions/{id}",
  summary: "Get a session",
  request: { params: sessionIDParams },
  responses: { 200: jsonContent(session, "The session"), ...errorResponses },
});

const cancel = createRoute({
  method: "post",
  path: "/sessions/{id}/cancel",
  summary: "Stop the agent (SIGTERM, then SIGKILL after 5 s)",
  request: { params: sessionIDParams },
  responses: { 200: jsonContent(session, "The session"), ...errorResponses },
});

const events = createRoute({
  method: "get",
  path: "/sessions/{id}/events",
  summary: "The session's events",
  description:
    "With `Accept: text/event-stream`: server-sent events from `after` (or `Last-Event-ID`), live until the session ends. " +
    "Otherwise one JSON page of events with seq > after: at most `limit` events and at most the server's " +
    "`event_page_bytes` of them (at least one event); read on from `next_after`.",
  request: {
    params: sessionIDParams,
    query: z.strictObject({
      after: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(10_000).default(1000),
    }),
  },
  responses: {
    200: {
      content: {
        "application/json": { schema: z.object({ events: z.array(sessionEventSchema), next_after: z.number() }) },
        "text/event-stream": { schema: z.string() },
      },
      description: "Events",
    },
    ...errorResponses,
  },
});

const attach = createRoute({
  method: "get",
  path: "/sessions/{id}/attach",
  summary: "Attach to an interactive session's terminal over WebSocket",
  description:
    "Raw PTY bytes both ways as binary messages; `{\"type\":\"resize\",\"cols\":N,\"rows\":N}` text messages resize. " +
    "Closing the socket detaches and leaves the agent running. Same protocol as processes/{pid}/attach.",
  request: { params: sessionIDParams },
  responses: { 101: { description: "Switching to the WebSocket protocol" }, ...errorResponses },
});

export function sessionRoutes(sessions: SessionService, eventService: EventService, eventPageBytes: number, volumes: Pick<VolumeService, "sizeNote">) {
  return createRouter()
    .openapi(create, async (c) => {
      const request = c.req.valid("json");
      const note = await volumes.sizeNote(c.var.principal, request);
      const session = sessionView(await sessions.create(c.var.principal, request));
      return c.json({ ...session, ...(note !== undefined && { notes: [note] }) }, 201);
    })
    .openapi(list, async (c) => {
      const { state, limit } = c.req.valid("query");
      const records = await sessions.list(c.var.principal, { limit, ...(state && { states: [state] }) });
      return c.json({ sessions: records.map((record) => sessionView(record)) }, 200);
    })
    .openapi(get, async (c) => c.json(sessionView(await sessions.get(c.var.principal, c.req.valid("param").id)), 200))
    .openapi(cancel, async (c) => c.json(sessionView(await sessions.cancel(c.var.principal, c.req.valid("param").id)), 200))
    .openapi(attach, () => {
      throw new CiabError("invalid_request", "attach needs a WebSocket upgrade (`Upgrade: websocket`)");
    })
    .openapi(events, async (c) => {
      const principal = c.var.principal;
      const record = await sessions.get(principal, c.req.valid("param").id);
      const { after, limit } = c.req.valid("query");
      if (!/text\/event-stream/.test(c.req.header("accept") ?? "")) {
        const page = await eventService.page(record.id, after, limit, eventPageBytes);
        return c.json({ events: page, next_after: page.at(-1)?.seq ?? after }, 200);
      }
      const lastEventID = Number(c.req.header("last-event-id"));
      const from = Number.isInteger(lastEventID) && lastEventID > 0 ? lastEventID : after;
      return streamSSE(c, async (stream) => {
        const abort = new AbortController();
        stream.onAbort(() => abort.abort());
        const isFinal = async () => sessions.isFinal(await sessions.get(principal, record.id));
        for await (const batch of eventService.followBatches(record.id, from, abort.signal, isFinal)) {
          await stream.write(batch.map(toServerSentEvent).join(""));
        }
      }) as never;
    });
}
