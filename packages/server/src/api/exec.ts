import { createRoute, z } from "@hono/zod-openapi";
import {
  execRequestSchema,
  execResultSchema,
  processSchema,
  signalSchema,
  startProcessSchema,
  terminalSizeSchema,
} from "@ciab/protocol";
import type { ExecService } from "../services/exec-service.js";
import { createRouter } from "./api-env.js";
import { commandNotFoundResponse, errorResponses, flag, jsonBody, jsonContent, noQuery, rawBody, sandboxIDParams, named } from "./schemas.js";
import { streamFrames } from "./sse-frames.js";

const execBody = named(execRequestSchema, {
  ref: "ExecRequest",
  example: { command: ["npm", "test"], cwd: "/workspace", env: { CI: "1" }, timeout_ms: 60_000 },
});
export const processParams = sandboxIDParams.extend({
  pid: z.coerce.number().int().positive().openapi({ param: { name: "pid", in: "path" } }),
});
const sseResponse = {
  content: { "text/event-stream": { schema: z.string() } },
  description: "Events exec.start, exec.output (base64 data), exec.exit; `error` if the stream breaks",
};

const exec = createRoute({
  method: "post",
  path: "/sandboxes/{id}/exec",
  summary: "Run a command and wait for it",
  description: "A string command runs with /bin/sh -c; an array is argv. Missing binaries answer `command_not_found`.",
  request: { params: sandboxIDParams, ...jsonBody(execBody) },
  responses: { 200: jsonContent(named(execResultSchema, "ExecResult"), "Exit code and output"), ...errorResponses, ...commandNotFoundResponse },
});

const execStream = createRoute({
  method: "post",
  path: "/sandboxes/{id}/exec/stream",
  summary: "Run a command and stream its output as server-sent events",
  request: { params: sandboxIDParams, ...jsonBody(execBody) },
  responses: { 200: sseResponse, ...errorResponses, ...commandNotFoundResponse },
});

const startProcess = createRoute({
  method: "post",
  path: "/sandboxes/{id}/processes",
  summary: "Start a background process",
  request: { params: sandboxIDParams, ...jsonBody(named(startProcessSchema, { ref: "StartProcess", example: { command: "python3 -m http.server 8000", tag: "web" } })) },
  responses: { 201: jsonContent(named(processSchema, "Process"), "The started process"), ...errorResponses, ...commandNotFoundResponse },
});

const listProcesses = createRoute({
  method: "get",
  path: "/sandboxes/{id}/processes",
  summary: "List background processes",
  description: "Every process started through the API that agentd still remembers, running or exited: `ciab sandbox ps`.",
  request: { params: sandboxIDParams, query: noQuery },
  responses: { 200: jsonContent(z.object({ processes: z.array(processSchema) }), "Processes"), ...errorResponses },
});

const getProcess = createRoute({
  method: "get",
  path: "/sandboxes/{id}/processes/{pid}",
  summary: "Get a background process",
  request: { params: processParams },
  responses: { 200: jsonContent(processSchema, "The process"), ...errorResponses },
});

const signalProcess = createRoute({
  method: "post",
  path: "/sandboxes/{id}/processes/{pid}/signal",
  summary: "Send a signal to a background process",
  request: { params: processParams, ...jsonBody(signalSchema) },
  responses: { 200: jsonContent(processSchema, "The process"), ...errorResponses },
});

const resizeProcess = createRoute({
  method: "post",
  path: "/sandboxes/{id}/processes/{pid}/resize",
  summary: "Set the terminal size of a process started with `pty`",
  request: { params: processParams, ...jsonBody(named(terminalSizeSchema, "TerminalSize")) },
  responses: { 200: jsonContent(processSchema, "The process"), ...errorResponses },
});

const processOutput = createRoute({
  method: "get",
  path: "/sandboxes/{id}/processes/{pid}/output",
  summary: "Replay a process's output, then follow it until it exits",
  request: { params: processParams },
  responses: { 200: sseResponse, ...errorResponses },
});

const processStdin = createRoute({
  method: "post",
  path: "/sandboxes/{id}/processes/{pid}/stdin",
  summary: "Write the raw request body to a process's stdin",
  description:
    "The body is bytes, at most `[server] stdin_limit_bytes` per request; send a long input as several requests, " +
    "in order, the last with `close=true` so the process reads end of file.",
  request: {
    params: processParams,
    query: z.object({
      close: flag.optional().openapi({ description: "End stdin after writing the body (the body may be empty)" }),
    }),
    body: rawBody("Bytes for stdin", false),
  },
  responses: { 200: jsonContent(z.object({ written: z.number() }), "Bytes written"), ...errorResponses },
});

export function execRoutes(execService: ExecService) {
  return createRouter()
    .openapi(exec, async (c) => {
      const result = await execService.run(c.var.principal, c.req.valid("param").id, c.req.valid("json"), c.req.raw.signal);
      return c.json(result, 200);
    })
    .openapi(execStream, async (c) => {
      const abort = new AbortController();
      const frames = await execService.stream(c.var.principal, c.req.valid("param").id, c.req.valid("json"), abort.signal);
      return streamFrames(c, frames, abort) as never;
    })
    .openapi(startProcess, async (c) =>
      c.json(await execService.startProcess(c.var.principal, c.req.valid("param").id, c.req.valid("json")), 201),
    )
    .openapi(listProcesses, async (c) =>
      c.json({ processes: await execService.listProcesses(c.var.principal, c.req.valid("param").id) }, 200),
    )
    .openapi(getProcess, async (c) => {
      const { id, pid } = c.req.valid("param");
      return c.json(await execService.getProcess(c.var.principal, id, pid), 200);
    })
    .openapi(signalProcess, async (c) => {
      const { id, pid } = c.req.valid("param");
      return c.json(await execService.signalProcess(c.var.principal, id, pid, c.req.valid("json").signal), 200);
    })
    .openapi(resizeProcess, async (c) => {
      const { id, pid } = c.req.valid("param");
      return c.json(await execService.resizeProcess(c.var.principal, id, pid, c.req.valid("json")), 200);
    })
    .openapi(processOutput, async (c) => {
      const { id, pid } = c.req.valid("param");
      const abort = new AbortController();
      const frames = await execService.output(c.var.principal, id, pid, abort.signal);
      return streamFrames(c, frames, abort) as never;
    })
    .openapi(processStdin, async (c) => {
      const { id, pid } = c.req.valid("param");
      const data = Buffer.from(await c.req.arrayBuffer());
      const close = c.req.valid("query").close ?? false;
      return c.json(await execService.writeStdin(c.var.principal, id, pid, data, { close }), 200);
    });
}
