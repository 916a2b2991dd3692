import { createRoute, z } from "@hono/zod-openapi";
import { consoleOutputSchema, createSandboxSchema, sandboxListSchema, sandboxSchema, sandboxStates, setSandboxTimeoutSchema, shellCommandSchema } from "@ciab/protocol";
import type { VolumeService } from "../services/volume-service.js";
import type { SandboxService } from "../services/sandbox-service.js";
import { createRouter } from "./api-env.js";
import { sandboxView } from "./sandbox-view.js";
import { costCapResponse, errorResponseSchema, errorResponses, flag, jsonBody, jsonContent, repeated, sandboxIDParams, named } from "./schemas.js";

const sandbox = named(sandboxSchema, "Sandbox");

const create = createRoute({
  method: "post",
  path: "/sandboxes",
  summary: "Create a sandbox",
  description:
    "Answers once the sandbox is ready (201), or at once with `wait=false` (202, state `provisioning`). " +
    "With `persistent-volume`, a volume whose sandbox is ending is waited for (`[runtime] volume_release_wait_seconds`); " +
    "one a live sandbox mounts is 409 `volume_in_use` at once.",
  request: { query: z.object({ wait: flag.optional() }), ...jsonBody(
      named(createSandboxSchema, { ref: "CreateSandbox", example: { runtime: "docker", name: "web", tags: { team: "web" } } }),
    ) },
  responses: {
    201: jsonContent(sandbox, "The ready sandbox"),
    202: jsonContent(sandbox, "Provisioning has started"),
    ...errorResponses,
    ...costCapResponse,
    422: jsonContent(
      errorResponseSchema,
      "image_not_found: the runtime lacks the image (on docker: load it with `docker load` or `docker import`); the sandbox ends at once",
    ),
    507: jsonContent(errorResponseSchema, "insufficient_storage: the snapshot to restore does not fit the sandbox's disk"),
  },
});

const list = createRoute({
  method: "get",
  path: "/sandboxes",
  summary: "List sandboxes",
  description: "Filters combine: `?state=ready&state=paused&tag=team:web&tag=ci` lists ready or paused sandboxes tagged team=web that have a `ci` tag.",
  request: {
    query: z.strictObject({
      all: flag.optional().openapi({ description: "Include terminated sandboxes" }),
      state: repeated(z.enum(sandboxStates))
        .optional()
        .openapi({ description: "Only sandboxes in these states (repeatable)", example: ["ready"] }),
      tag: repeated(z.string().min(1).max(385).regex(/^[^:]+(:.*)?$/, "key:value or key"))
        .optional()
        .openapi({ description: "Only sandboxes with this tag, written key:value, or key for any value (repeatable)", example: ["team:web"] }),
    }),
  },
  responses: { 200: jsonContent(sandboxListSchema, "Sandboxes, terminated ones only with all=true"), ...errorResponses },
});

const get = createRoute({
  method: "get",
  path: "/sandboxes/{id}",
  summary: "Get a sandbox",
  request: { params: sandboxIDParams },
  responses: { 200: jsonContent(sandbox, "The sandbox"), ...errorResponses },
});

const remove = createRoute({
  method: "delete",
  path: "/sandboxes/{id}",
  summary: "Destroy a sandbox and its machine",
  request: { params: sandboxIDParams },
  responses: { 200: jsonContent(sandbox, "The terminated sandbox"), ...errorResponses },
});

const pause = createRoute({
  method: "post",
  path: "/sandboxes/{id}/pause",
  summary: "Freeze every process of a sandbox",
  request: { params: sandboxIDParams },
  responses: { 200: jsonContent(sandbox, "The paused sandbox"), ...errorResponses },
});

const resume = createRoute({
  method: "post",
  path: "/sandboxes/{id}/resume",
  summary: "Resume a paused sandbox",
  request: { params: sandboxIDParams },
  responses: { 200: jsonContent(sandbox, "The ready sandbox"), ...errorResponses },
});

const setTimeout = createRoute({
  method: "post",
  path: "/sandboxes/{id}/timeout",
  operationId: "setSandboxTimeout",
  tags: ["sandboxes"],
  summary: "Set how long a sandbox lives from now (and after each resume)",
  description:
    "A ready sandbox's `expires_at` becomes now + `timeout_secs`; then it is paused or deleted as its `on_timeout` says. " +
    "At most `[sandboxes] max_timeout_seconds`.",
  request: { params: sandboxIDParams, ...jsonBody(named(setSandboxTimeoutSchema, "SetSandboxTimeout")) },
  responses: { 200: jsonContent(sandbox, "The sandbox with its new deadline"), ...errorResponses },
});

const consoleOutput = createRoute({
  method: "get",
  path: "/sandboxes/{id}/console",
  summary: "What the sandbox's machine printed on its console",
  description: "EC2's GetConsoleOutput (its last 64 KiB); `capability_unsupported` on runtimes without a console.",
  request: { params: sandboxIDParams },
  responses: { 200: jsonContent(named(consoleOutputSchema, "ConsoleOutput"), "The console's text"), ...errorResponses },
});

const shellCommand = createRoute({
  method: "get",
  path: "/sandboxes/{id}/shell-command",
  summary: "The backend's own command for a shell in the sandbox's machine",
  description: "fargate: the `aws ecs execute-command` line for the task; `capability_unsupported` on runtimes whose shell is `ciab sandbox attach`.",
  request: { params: sandboxIDParams },
  responses: { 200: jsonContent(named(shellCommandSchema, "ShellCommand"), "The command, as argv and as one shell line"), ...errorResponses },
});

export function sandboxRoutes(sandboxes: SandboxService, volumes: Pick<VolumeService, "sizeNote">) {
  return createRouter()
    .openapi(create, async (c) => {
      const wait = c.req.valid("query").wait ?? true;
      const request = c.req.valid("json");
      // Worded before the create, which may make the volume.
      const note = await volumes.sizeNote(c.var.principal, request);
      // A client that goes away stops a volume claim still waiting for its holder, not a provision under way.
      const record = await sandboxes.create(c.var.principal, request, { wait, signal: c.req.raw.signal });
      return c.json({ ...sandboxView(record), ...(note !== undefined && { notes: [note] }) }, wait ? 201 : 202);
    })
    .openapi(list, async (c) => {
      const query = c.req.valid("query");
      const records = await sandboxes.list(c.var.principal, {
        all: query.all ?? false,
        ...(query.state && { states: query.state }),
        ...(query.tag && { tags: query.tag.map(parseTagFilter) }),
      });
      return c.json({ sandboxes: records.map((record) => sandboxView(record)) }, 200);
    })
    .openapi(get, async (c) => c.json(sandboxView(await sandboxes.get(c.var.principal, c.req.valid("param").id)), 200))
    .openapi(shellCommand, async (c) => {
      const argv = await sandboxes.shellCommand(c.var.principal, c.req.valid("param").id);
      return c.json({ argv, command: argv.map(shellQuote).join(" ") }, 200);
    })
    .openapi(consoleOutput, async (c) =>
      c.json({ output: await sandboxes.consoleOutput(c.var.principal, c.req.valid("param").id) }, 200),
    )
    .openapi(remove, async (c) =>
      c.json(sandboxView(await sandboxes.delete(c.var.principal, c.req.valid("param").id)), 200),
    )
    .openapi(pause, async (c) =>
      c.json(sandboxView(await sandboxes.pause(c.var.principal, c.req.valid("param").id)), 200),
    )
    .openapi(setTimeout, async (c) =>
      c.json(sandboxView(await sandboxes.setTimeout(c.var.principal, c.req.valid("param").id, c.req.valid("json").timeout_secs)), 200),
    )
    .openapi(resume, async (c) =>
      c.json(sandboxView(await sandboxes.resume(c.var.principal, c.req.valid("param").id)), 200),
    );
}

/** `key:value`, or `key` alone for any value; the value may hold colons. */
function parseTagFilter(filter: string): { key: string; value?: string } {
  const colon = filter.indexOf(":");
  return colon === -1 ? { key: filter } : { key: filter.slice(0, colon), value: filter.slice(colon + 1) };
}

/** One argv entry as a POSIX shell word. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
