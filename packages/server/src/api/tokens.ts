import { createRoute, z } from "@hono/zod-openapi";
import { createTokenSchema, createdTokenSchema, tokenListSchema, tokenSchema } from "@ciab/protocol";
import type { TokenService } from "../services/token-service.js";
import { createRouter } from "./api-env.js";
import { tokenView } from "./account-views.js";
import { errorResponseSchema, errorResponses, jsonBody, jsonContent, named } from "./schemas.js";

const tokenIDParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example: "tok_01j9z3k8x2m4n6p8r0t2v4w6y8" }),
});

const create = createRoute({
  method: "post",
  path: "/tokens",
  operationId: "createToken",
  tags: ["tokens"],
  summary: "Create an API token for the caller; its text is in this answer only",
  request: jsonBody(named(createTokenSchema, "CreateToken")),
  responses: {
    201: jsonContent(named(createdTokenSchema, "CreatedToken"), "The token, with its text shown once"),
    403: jsonContent(errorResponseSchema, "An admin token asked for by a member"),
    ...errorResponses,
  },
});

const list = createRoute({
  method: "get",
  path: "/tokens",
  operationId: "listTokens",
  tags: ["tokens"],
  summary: "List live tokens: the caller's own, or the whole workspace's for its admins",
  responses: { 200: jsonContent(tokenListSchema, "Tokens without their text"), ...errorResponses },
});

const revoke = createRoute({
  method: "delete",
  path: "/tokens/{id}",
  operationId: "revokeToken",
  tags: ["tokens"],
  summary: "Revoke a token: it stops working at once, and its open streams and attach sockets close",
  request: { params: tokenIDParams },
  responses: {
    200: jsonContent(named(tokenSchema, "Token"), "The revoked token"),
    403: jsonContent(errorResponseSchema, "An installation admin's token, revoked by someone else than an installation admin"),
    ...errorResponses,
  },
});

export function tokenRoutes(tokens: TokenService) {
  return createRouter()
    .openapi(create, async (c) => {
      const { token, view } = await tokens.create(c.var.principal, c.req.valid("json"));
      return c.json({ ...tokenView(view), token }, 201);
    })
    .openapi(list, async (c) => c.json({ tokens: (await tokens.list(c.var.principal)).map(tokenView) }, 200))
    .openapi(revoke, async (c) => c.json(tokenView(await tokens.revoke(c.var.principal, c.req.valid("param").id)), 200));
}
