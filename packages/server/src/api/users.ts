import { createRoute, z } from "@hono/zod-openapi";
import { setRoleSchema, userListSchema, userSchema, whoAmISchema } from "@ciab/protocol";
import type { UserService } from "../services/user-service.js";
import { createRouter } from "./api-env.js";
import { userView } from "./account-views.js";
import { errorResponseSchema, errorResponses, jsonBody, jsonContent, named } from "./schemas.js";

const workspaceIDParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "ws_01j9z3k8x2m4n6p8r0t2v4w6y8" }),
});
const userParams = workspaceIDParams.extend({
  user_id: z.string().min(1).max(64).openapi({ param: { name: "user_id", in: "path" }, example: "usr_01j9z3k8x2m4n6p8r0t2v4w6y8" }),
});
const forbidden = { 403: jsonContent(errorResponseSchema, "Not an admin of this workspace, or the user is an installation admin") };

const list = createRoute({
  method: "get",
  path: "/workspaces/{id}/users",
  operationId: "listUsers",
  tags: ["users"],
  summary: "List a workspace's users (anyone in it; installation admins for any workspace)",
  request: { params: workspaceIDParams },
  responses: { 200: jsonContent(userListSchema, "Users, oldest first"), ...errorResponses },
});

const setRole = createRoute({
  method: "patch",
  path: "/workspaces/{id}/users/{user_id}",
  operationId: "setUserRole",
  tags: ["users"],
  summary: "Change a user's role (the workspace's admins); the last admin cannot be demoted",
  request: { params: userParams, ...jsonBody(named(setRoleSchema, "SetRole")) },
  responses: { 200: jsonContent(named(userSchema, "User"), "The user"), ...forbidden, ...errorResponses },
});

const remove = createRoute({
  method: "delete",
  path: "/workspaces/{id}/users/{user_id}",
  operationId: "removeUser",
  tags: ["users"],
  summary: "Remove a user: their tokens stop working at once; their sandboxes and sessions stay",
  request: { params: userParams },
  responses: { 200: jsonContent(named(userSchema, "User"), "The removed user"), ...forbidden, ...errorResponses },
});

const whoAmI = createRoute({
  method: "get",
  path: "/whoami",
  operationId: "whoAmI",
  tags: ["users"],
  summary: "The calling token's user, workspace and rights",
  responses: { 200: jsonContent(named(whoAmISchema, "WhoAmI"), "Who is calling"), ...errorResponses },
});

export function userRoutes(users: UserService) {
  return createRouter()
    .openapi(list, async (c) => c.json({ users: (await users.list(c.var.principal, c.req.valid("param").id)).map(userView) }, 200))
    .openapi(setRole, async (c) => {
      const { id, user_id } = c.req.valid("param");
      return c.json(userView(await users.setRole(c.var.principal, id, user_id, c.req.valid("json").role)), 200);
    })
    .openapi(remove, async (c) => {
      const { id, user_id } = c.req.valid("param");
      return c.json(userView(await users.remove(c.var.principal, id, user_id)), 200);
    })
    .openapi(whoAmI, async (c) => c.json(await users.whoami(c.var.principal), 200));
}
