import { Hono } from "hono";
import type { Logger } from "../logger.js";
import { toErrorResponse } from "../api/error-handler.js";
import { boundAnswer, defaultStreamWindow, type StreamWindow } from "./lambda-answer.js";
import { lambdaRefusals } from "./lambda-refusals.js";

export interface LambdaAppOptions {
  /** The app createApp built, the same one the long-running server serves. */
  api: { fetch(request: Request): Response | Promise<Response> };
  logger: Logger;
  /**
   * `[server] public_url`: the origin clients use. Behind CloudFront the event carries only the function
   * URL's host, and links the API hands out (signed downloads) must point at the distribution. Without it,
   * the viewer's host in `x-forwarded-host` is used, which the API handler keeps only on requests that
   * carried the distribution's origin secret.
   */
  publicURL: string | undefined;
  previewDomain: string | undefined;
  streamWindow?: StreamWindow;
}

/** The API app behind what a Lambda cannot serve, with answers bounded to what a Lambda can return. */
export function createLambdaApp(options: LambdaAppOptions): Hono {
  const { api, logger } = options;
  const app = new Hono();
  app.onError((error, c) => toErrorResponse(error, c, logger));
  app.use("*", lambdaRefusals({ previewDomain: options.previewDomain }));
  app.all("*", async (c) => {
    const origin = options.publicURL ?? forwardedOrigin(c.req.header("x-forwarded-host"));
    const request = origin === undefined ? c.req.raw : withOrigin(c.req.raw, origin);
    return boundAnswer(await api.fetch(request), options.streamWindow ?? defaultStreamWindow);
  });
  return app;
}

function withOrigin(request: Request, publicURL: string): Request {
  const url = new URL(request.url);
  const origin = new URL(publicURL);
  url.protocol = origin.protocol;
  url.host = origin.host;
  return new Request(url, request);
}

/** A bare host name with an optional port; anything else is ignored rather than spliced into URLs. */
const hostPattern = /^[a-z0-9.-]{1,253}(?::\d{1,5})?$/i;

function forwardedOrigin(host: string | undefined): string | undefined {
  return host !== undefined && hostPattern.test(host) ? `https://${host}` : undefined;
}
