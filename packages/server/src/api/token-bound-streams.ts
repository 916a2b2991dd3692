import type { MiddlewareHandler } from "hono";
import type { AuthService } from "../services/auth-service.js";
import type { ApiEnv } from "./api-env.js";

/**
 * Ends a streamed answer (SSE) when the token that opened it is revoked or expires, so a revoked token
 * reads nothing more, even on a stream it opened before. Cancelling the inner stream lets its producer
 * stop (streamSSE's `onAbort`).
 */
export function tokenBoundStreams(auth: AuthService): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next();
    const principal = c.get("principal") as ApiEnv["Variables"]["principal"] | undefined;
    const body = c.res.body;
    if (!principal || !body || !(c.res.headers.get("content-type") ?? "").startsWith("text/event-stream")) return;
    const reader = body.getReader();
    let unwatch = () => {};
    const bound = new ReadableStream<Uint8Array>({
      start(controller) {
        unwatch = auth.watch(principal, () => {
          void reader.cancel("token revoked").catch(() => undefined);
          try {
            controller.close();
          } catch {
            // already closed by the producer
          }
        });
      },
      async pull(controller) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done) {
          unwatch();
          try {
            controller.close();
          } catch {
            // closed by the watcher
          }
        } else controller.enqueue(value);
      },
      cancel(reason) {
        unwatch();
        return reader.cancel(reason);
      },
    });
    c.res = new Response(bound, { status: c.res.status, headers: c.res.headers });
  };
}
