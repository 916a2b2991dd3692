import { ServerResponse } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import type { AuthService, Principal } from "../services/auth-service.js";
import type { ApiEnv } from "./api-env.js";

const bound = new WeakSet<ServerResponse>();

/** The Node response behind a request; none under `app.request()` or on Lambda, where nothing stays open. */
function nodeResponse(c: Context): ServerResponse | undefined {
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing instanceof ServerResponse ? outgoing : undefined;
}

/**
 * Destroys the connection of a request when the token that made it is revoked or expires, until its answer is
 * fully sent: the request's signal aborts with it, so the work under way (a tool call, an exec, a publish)
 * stops, and a download in flight ends in a reset, never in a short body that looks whole.
 */
export function bindConnectionToToken(auth: AuthService, principal: Principal, c: Context): () => void {
  const outgoing = nodeResponse(c);
  if (!outgoing || outgoing.writableFinished || outgoing.destroyed || bound.has(outgoing)) return () => undefined;
  bound.add(outgoing);
  const unwatch = auth.watch(principal, () => outgoing.destroy());
  const release = () => {
    unwatch();
    bound.delete(outgoing);
  };
  outgoing.once("close", release);
  return () => {
    outgoing.off("close", release);
    release();
  };
}

/**
 * Binds every authenticated request to its token (`bindConnectionToToken`). Streams of events are left to
 * token-bound-streams.ts, which ends them cleanly; signed downloads name their token only once the route
 * has checked the URL, so they are bound after it.
 */
export function tokenBoundConnections(auth: AuthService): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const before = c.get("principal") as Principal | undefined;
    const release = before ? bindConnectionToToken(auth, before, c) : () => undefined;
    await next();
    if ((c.res.headers.get("content-type") ?? "").startsWith("text/event-stream")) return release();
    const after = c.get("principal") as Principal | undefined;
    if (after && after !== before) bindConnectionToToken(auth, after, c);
  };
}
