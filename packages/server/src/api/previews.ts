import { createRoute, z } from "@hono/zod-openapi";
import { sessionPortsSchema } from "@ciab/protocol";
import type { PreviewService } from "../services/preview-service.js";
import { createRouter } from "./api-env.js";
import { errorResponseSchema, errorResponses, jsonContent, named, noQuery } from "./schemas.js";

const sessionIDParams = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) });

const ports = createRoute({
  method: "get",
  path: "/sessions/{id}/ports",
  summary: "Ports listening in a session's sandbox, with signed preview URLs",
  description:
    "Each URL carries a JWT scoped to the session and port, valid `[previews] token_ttl_seconds` (CIAB_PREVIEW_TOKEN_TTL). " +
    "The first request moves it into an HttpOnly cookie scoped to the preview and redirects to the URL without it.",
  request: { params: sessionIDParams, query: noQuery },
  responses: {
    200: jsonContent(named(sessionPortsSchema, "SessionPorts"), "Listening ports"),
    ...errorResponses,
    410: jsonContent(errorResponseSchema, "session_ended: the session ended and its previews with it"),
  },
});

export interface PreviewRoutesOptions {
  /** `[previews] public_url`; the caller's own origin otherwise. */
  publicURL: string | undefined;
  /** `[previews] domain`. */
  domain: string | undefined;
}

export function previewRoutes(previews: PreviewService, options: PreviewRoutesOptions) {
  return createRouter().openapi(ports, async (c) => {
    const sessionID = c.req.valid("param").id;
    const signed = await previews.listPorts(c.var.principal, sessionID, c.req.raw.signal);
    const origin = new URL(options.publicURL ?? c.req.url).origin;
    const scheme = new URL(origin).protocol;
    return c.json(
      {
        ports: signed.map(({ port, token, expiresAt }) => ({
          port,
          url: `${origin}/sandbox/preview/${sessionID}/${port}/?token=${token}`,
          ...(options.domain && { host_url: `${scheme}//${port}-${sessionID}.${options.domain}/?token=${token}` }),
          expires_at: new Date(expiresAt * 1000).toISOString(),
        })),
      },
      200,
    );
  });
}
