import { createRoute, z } from "@hono/zod-openapi";
import { CiabError, createSandboxSchema } from "@ciab/protocol";
import { createRouter } from "../../api/api-env.js";
import { jsonContent } from "../../api/schemas.js";
import type { SandboxService } from "../../services/sandbox-service.js";
import type { SandboxRecord } from "../../store/records.js";
import type { Principal } from "../../services/auth-service.js";
import type { AccessTokens } from "./access-tokens.js";
import { createRequestOf, e2bState, sandboxDetail, sandboxHandle } from "./sandbox-mapping.js";

/**
 * E2B's REST API (the part its `Sandbox` class calls) onto SandboxService: the same rows, rules, budget and
 * lifetimes as `/api/v1/sandboxes`. Bodies are E2B's; errors are `{ code, message }` (e2b-errors.ts).
 */
const tags = ["e2b"];
/** E2B's SDK sends its API key (a ciab token here) as `X-API-Key`, not as a bearer token. */
const security = [{ e2bApiKey: [] }];
const templateID = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,255}$/, "a template id or name");
const metadata = z.record(z.string().min(1).max(128), z.string().max(256));
const timeoutSeconds = z.number().int().min(0).max(366 * 24 * 3600);
const sandboxParams = z.object({ sandboxID: z.string().min(1).max(64).openapi({ param: { name: "sandboxID", in: "path" } }) });
const errorBody = z.object({ code: z.number().int(), message: z.string() }).openapi("E2BError");
const errors = {
  400: jsonContent(errorBody, "Invalid request"),
  401: jsonContent(errorBody, "Missing or unknown API key (X-API-Key)"),
  404: jsonContent(errorBody, "No such sandbox in this workspace"),
};
const handleSchema = z.object({ templateID: z.string(), sandboxID: z.string(), alias: z.string(), clientID: z.string(), envdVersion: z.string(), envdAccessToken: z.string(), domain: z.null() });
const detailSchema = z.object({
  templateID: z.string(), alias: z.string(), sandboxID: z.string(), clientID: z.string(), startedAt: z.string(), endAt: z.string(),
  envdVersion: z.string(), cpuCount: z.number(), memoryMB: z.number(), diskSizeMB: z.number(),
  metadata: z.record(z.string(), z.string()), state: z.enum(["running", "paused"]),
});
const json = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { "application/json": { schema } } } });

const create = createRoute({
  method: "post", path: "/v2/sandboxes", tags, security, summary: "E2B: create a sandbox (waits until it is ready)",
  request: json(
    z.object({
      templateID,
      metadata: metadata.optional(),
      envVars: z.record(z.string(), z.string()).optional(),
      timeout: timeoutSeconds.optional(),
      autoPause: z.boolean().optional(),
      // Named so they can be refused: ignoring them would leave a program believing it has them.
      mcp: z.unknown().optional(),
      volumeMounts: z.unknown().optional(),
    }),
  ),
  responses: { 201: jsonContent(handleSchema, "The ready sandbox and its envd access token"), ...errors },
});
const list = createRoute({
  method: "get", path: "/v2/sandboxes", tags, security, summary: "E2B: list running and paused sandboxes",
  request: {
    query: z.object({
      metadata: z.string().max(8192).optional(),
      state: z.union([z.string().max(64), z.array(z.string().max(16)).max(4)]).optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
      nextToken: z.string().max(64).optional(),
    }),
  },
  responses: { 200: jsonContent(z.array(detailSchema), "Sandboxes; `x-next-token` names the next page"), ...errors },
});
const get = createRoute({
  method: "get", path: "/sandboxes/{sandboxID}", tags, security, summary: "E2B: get a sandbox",
  request: { params: sandboxParams }, responses: { 200: jsonContent(detailSchema, "The sandbox"), ...errors },
});
const kill = createRoute({
  method: "delete", path: "/sandboxes/{sandboxID}", tags, security, summary: "E2B: kill a sandbox",
  request: { params: sandboxParams }, responses: { 204: { description: "Killed" }, ...errors },
});
const setTimeout = createRoute({
  method: "post", path: "/sandboxes/{sandboxID}/timeout", tags, security, summary: "E2B: the sandbox now lives `timeout` seconds from now",
  request: { params: sandboxParams, ...json(z.object({ timeout: timeoutSeconds.min(1) })) }, responses: { 204: { description: "Set" }, ...errors },
});
const pause = createRoute({
  method: "post", path: "/sandboxes/{sandboxID}/pause", tags, security, summary: "E2B: pause a sandbox",
  request: { params: sandboxParams }, responses: { 204: { description: "Paused" }, 409: jsonContent(errorBody, "Already paused"), ...errors },
});
const connect = createRoute({
  method: "post", path: "/v2/sandboxes/{sandboxID}/connect", tags, security, summary: "E2B: connect to a sandbox, resuming it if paused",
  request: { params: sandboxParams, body: { required: false, content: { "application/json": { schema: z.object({ timeout: timeoutSeconds.optional() }) } } } },
  responses: { 200: jsonContent(handleSchema, "The sandbox and a fresh envd access token"), 201: jsonContent(handleSchema, "Resumed"), ...errors },
});

/** A live sandbox of the caller's workspace; a terminated one is not found. */
async function live(sandboxes: SandboxService, principal: Principal, id: string): Promise<{ record: SandboxRecord; state: "running" | "paused" }> {
  const record = await sandboxes.get(principal, id);
  const state = e2bState(record);
  if (!state) throw new CiabError("sandbox_not_found", `sandbox ${id} is ${record.state}`);
  return { record, state };
}

/** `k=v&k2=v2`, each side URL-encoded by the SDK before the whole is encoded again as one query value. */
function metadataFilter(text: string | undefined): [string, string][] {
  if (!text) return [];
  try {
    return [...new URLSearchParams(text)].map(([key, value]) => [decodeURIComponent(key), decodeURIComponent(value)]);
  } catch {
    throw new CiabError("invalid_request", "metadata must be key=value pairs");
  }
}

export function restRoutes(sandboxes: SandboxService, accessTokens: AccessTokens) {
  return createRouter()
    .openapi(create, async (c) => {
      const body = c.req.valid("json");
      for (const feature of ["mcp", "volumeMounts"] as const) {
        if (body[feature] !== undefined) throw new CiabError("capability_unsupported", `ciab's E2B adapter does not offer ${feature}`);
      }
      const parsed = createSandboxSchema.safeParse(createRequestOf(body));
      if (!parsed.success) throw new CiabError("invalid_request", parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "));
      const record = await sandboxes.create(c.var.principal, parsed.data, { wait: true, signal: c.req.raw.signal });
      return c.json(sandboxHandle(record, await accessTokens.issue(c.var.principal, record.id)), 201);
    })
    .openapi(list, async (c) => {
      const query = c.req.valid("query");
      const asked = (Array.isArray(query.state) ? query.state : (query.state ?? "").split(",")).filter(Boolean);
      const states = asked.length > 0 ? asked : ["running", "paused"];
      const wanted = metadataFilter(query.metadata);
      const records = await sandboxes.list(c.var.principal, { all: false, tags: wanted.map(([key, value]) => ({ key, value })) });
      const items = records
        .map((record) => ({ record, state: e2bState(record) }))
        .filter((item): item is { record: SandboxRecord; state: "running" | "paused" } => item.state !== undefined && states.includes(item.state))
        .sort((a, b) => a.record.id.localeCompare(b.record.id))
        .filter((item) => query.nextToken === undefined || item.record.id > query.nextToken);
      const page = items.slice(0, query.limit ?? 100);
      if (page.length < items.length) c.header("x-next-token", page.at(-1)!.record.id);
      return c.json(page.map((item) => sandboxDetail(item.record, item.state)), 200);
    })
    .openapi(get, async (c) => {
      const { record, state } = await live(sandboxes, c.var.principal, c.req.valid("param").sandboxID);
      return c.json(sandboxDetail(record, state), 200);
    })
    .openapi(kill, async (c) => {
      const { record } = await live(sandboxes, c.var.principal, c.req.valid("param").sandboxID);
      await sandboxes.delete(c.var.principal, record.id);
      return c.body(null, 204);
    })
    .openapi(setTimeout, async (c) => {
      await sandboxes.setTimeout(c.var.principal, c.req.valid("param").sandboxID, c.req.valid("json").timeout);
      return c.body(null, 204);
    })
    .openapi(pause, async (c) => {
      const { record, state } = await live(sandboxes, c.var.principal, c.req.valid("param").sandboxID);
      if (state === "paused") throw new CiabError("conflict", `sandbox ${record.id} is already paused`);
      await sandboxes.pause(c.var.principal, record.id);
      return c.body(null, 204);
    })
    .openapi(connect, async (c) => {
      const id = c.req.valid("param").sandboxID;
      const { state } = await live(sandboxes, c.var.principal, id);
      if (state === "paused") await sandboxes.resume(c.var.principal, id);
      const timeout = c.req.valid("json")?.timeout;
      const record = timeout ? await sandboxes.setTimeout(c.var.principal, id, timeout) : await sandboxes.get(c.var.principal, id);
      return c.json(sandboxHandle(record, await accessTokens.issue(c.var.principal, id)), state === "paused" ? 201 : 200);
    });
}
