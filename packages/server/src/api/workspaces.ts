import { createRoute, z } from "@hono/zod-openapi";
import { workspaceListSchema } from "@ciab/protocol";
import type { WorkspaceService } from "../services/workspace-service.js";
import { createRouter } from "./api-env.js";
import { errorResponseSchema, errorResponses, jsonBody, jsonContent } from "./schemas.js";

const createWorkspaceSchema = z.strictObject({
  name: z.string().min(1).max(128),
  user_name: z.string().min(1).max(128).optional(),
  role: z.enum(["admin", "member"]).optional(),
});

const createdSchema = z.object({
  workspace: z.object({ id: z.string(), name: z.string(), created_at: z.string() }),
  user: z.object({ id: z.string(), name: z.string(), role: z.enum(["admin", "member"]) }),
  /** Shown once; only its hash is stored. */
  token: z.string(),
});

const addUserSchema = z.strictObject({
  name: z.string().min(1).max(128),
  role: z.enum(["admin", "member"]).optional(),
});

const userCreatedSchema = z.object({
  user: z.object({ id: z.string(), name: z.string(), role: z.enum(["admin", "member"]) }),
  /** Shown once; only its hash is stored. */
  token: z.string(),
});

const workspaceIDParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "ws_01j9z3k8x2m4n6p8r0t2v4w6y8" }),
});

const addUser = createRoute({
  method: "post",
  path: "/workspaces/{id}/users",
  summary: "Add a user with a first token to a workspace (its admins, or installation admins)",
  request: { params: workspaceIDParams, ...jsonBody(addUserSchema) },
  responses: {
    201: jsonContent(userCreatedSchema, "The user and a token shown once"),
    403: jsonContent(errorResponseSchema, "Not an admin of this workspace"),
    ...errorResponses,
  },
});

const list = createRoute({
  method: "get",
  path: "/workspaces",
  operationId: "listWorkspaces",
  tags: ["workspaces"],
  summary: "List workspaces: every one for installation admins, the caller's own for everyone else",
  request: {
    query: z.strictObject({
      after: z.string().max(64).optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
    }),
  },
  responses: { 200: jsonContent(workspaceListSchema, "Workspaces, by id"), ...errorResponses },
});

const create = createRoute({
  method: "post",
  path: "/workspaces",
  summary: "Create a workspace with its first user and token (installation admins only)",
  request: jsonBody(createWorkspaceSchema),
  responses: {
    201: jsonContent(createdSchema, "The workspace, its user and a token shown once"),
    403: jsonContent(errorResponseSchema, "Not an installation admin"),
    ...errorResponses,
    409: jsonContent(errorResponseSchema, "already_exists: a workspace has that name"),
  },
});

export function workspaceRoutes(workspaces: WorkspaceService) {
  return createRouter()
    .openapi(list, async (c) => {
      const { after, limit } = c.req.valid("query");
      const records = await workspaces.list(c.var.principal, { after, limit: limit ?? 100 });
      return c.json({ workspaces: records.map((record) => ({ id: record.id, name: record.name, created_at: record.createdAt })) }, 200);
    })
    .openapi(create, async (c) => {
      const { workspace, user, token } = await workspaces.create(c.var.principal, c.req.valid("json"));
      return c.json(
        {
          workspace: { id: workspace.id, name: workspace.name, created_at: workspace.createdAt },
          user: { id: user.id, name: user.name, role: user.role },
          token,
        },
        201,
      );
    })
    .openapi(addUser, async (c) => {
      const { user, token } = await workspaces.addUser(c.var.principal, c.req.valid("param").id, c.req.valid("json"));
      return c.json({ user: { id: user.id, name: user.name, role: user.role }, token }, 201);
    });
}
