import { createRoute, z } from "@hono/zod-openapi";
import type { WorkspaceService } from "../services/workspace-service.js";
import { createRouter } from "./api-env.js";
import { errorResponses, jsonBody, jsonContent } from "./schemas.js";

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

const create = createRoute({
  method: "post",
  path: "/workspaces",
  summary: "Create a workspace with its first user and token (installation admins only)",
  request: jsonBody(createWorkspaceSchema),
  responses: { 201: jsonContent(createdSchema, "The workspace, its user and a token shown once"), ...errorResponses },
});

export function workspaceRoutes(workspaces: WorkspaceService) {
  return createRouter().openapi(create, async (c) => {
    const { workspace, user, token } = await workspaces.create(c.var.principal, c.req.valid("json"));
    return c.json(
      {
        workspace: { id: workspace.id, name: workspace.name, created_at: workspace.createdAt },
        user: { id: user.id, name: user.name, role: user.role },
        token,
      },
      201,
    );
  });
}
