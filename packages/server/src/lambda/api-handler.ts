import { createHash, timingSafeEqual } from "node:crypto";
import { handle } from "hono/aws-lambda";
import { CiabError } from "@ciab/protocol";
import { createApp } from "../api/app.js";
import type { ControlPlane } from "../control-plane.js";
import type { Logger } from "../logger.js";
import { createLambdaApp } from "./lambda-app.js";
import type { StreamWindow } from "./lambda-answer.js";
import { openLambdaControlPlane } from "./lambda-control-plane.js";
import { createSecretReader, lambdaOriginSecret } from "./lambda-secrets.js";
import { eventKind, httpEventSchema } from "./lambda-event.js";

/** What the Lambda returns for an HTTP event (payload format 2.0). */
export interface HTTPResult {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/**
 * The header the CloudFront distribution adds to every origin request, holding the secret
 * CIAB_ORIGIN_VERIFY_SECRET_ARN names: the function URL is public (origin access control would sign over
 * the clients' own `Authorization` and make them hash their bodies), so this keeps callers from going
 * around the WAF. Checked before the cold start, so a direct call costs one short invocation.
 */
export const originSecretHeader = "x-ciab-origin-verify";

export interface APIHandlerOptions {
  env: NodeJS.ProcessEnv;
  streamWindow?: StreamWindow;
}

export interface APIHandler {
  (event: unknown, context?: unknown): Promise<HTTPResult>;
  /** Ends the container's control plane (tests; a Lambda container is simply frozen and dropped). */
  close(): Promise<void>;
}

/**
 * The API on Lambda: the same createApp as `ciab server`, built once per container at its first event, with
 * no background loop (the scheduled Lambda runs those). A failed cold start is retried by the next event.
 */
export function createAPIHandler(options: APIHandlerOptions): APIHandler {
  let ready: Promise<{ plane: ControlPlane; logger: Logger; serve: ReturnType<typeof handle> }> | undefined;
  const secrets = createSecretReader(options.env);
  let originSecret: Promise<string | undefined> | undefined;
  let warnedOfOrigin = false;

  async function coldStart() {
    const { plane, logger } = await openLambdaControlPlane({ env: options.env, secrets });
    const app = createLambdaApp({
      api: createApp(plane.appDependencies),
      logger,
      publicURL: plane.config.server.public_url,
      previewDomain: plane.config.previews.domain,
      ...(options.streamWindow && { streamWindow: options.streamWindow }),
    });
    return { plane, logger, serve: handle(app) };
  }

  const handler = async (event: unknown, context?: unknown): Promise<HTTPResult> => {
    const parsed = httpEventSchema.safeParse(event);
    if (!parsed.success) {
      const where = parsed.error.issues[0]?.path.join(".") || "the event";
      return errorResult(new CiabError("invalid_request", `not an HTTP event of payload format 2.0 (${where}: ${parsed.error.issues[0]?.message})`));
    }
    originSecret ??= lambdaOriginSecret(options.env, secrets).catch((error: unknown) => {
      originSecret = undefined;
      throw error;
    });
    const expected = await originSecret;
    if (expected !== undefined && !sameSecret(parsed.data.headers[originSecretHeader], expected)) {
      return errorResult(new CiabError("forbidden", "this API answers only through its CloudFront distribution"));
    }
    delete parsed.data.headers[originSecretHeader];
    // Only the distribution's own CloudFront Function sets the viewer's host; without the secret anyone could.
    if (expected === undefined) delete parsed.data.headers["x-forwarded-host"];
    const { method } = parsed.data.requestContext.http;
    if (parsed.data.body !== undefined && (method === "GET" || method === "HEAD")) {
      return errorResult(new CiabError("invalid_request", `a ${method} request carries no body`));
    }
    ready ??= coldStart().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    const { plane, logger, serve } = await ready;
    if (!warnedOfOrigin && plane.config.server.public_url === undefined && expected === undefined && eventKind(parsed.data) === "cloudfront-function-url") {
      warnedOfOrigin = true;
      logger.warn("events come through CloudFront without an origin secret and [server] public_url is not set: links will name the function URL's host");
    }
    return (await serve(parsed.data as never, context as never)) as HTTPResult;
  };
  return Object.assign(handler, {
    async close() {
      const current = ready;
      ready = undefined;
      if (current) await (await current).plane.close();
    },
  });
}

function sameSecret(given: string | undefined, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

function errorResult(error: CiabError): HTTPResult {
  return { statusCode: error.status, headers: { "content-type": "application/json" }, body: JSON.stringify(error.toBody()), isBase64Encoded: false };
}

/** The Lambda entry point (NodejsFunction `entry`, handler `handler`), configured by CIAB_* variables. */
export const handler = createAPIHandler({ env: process.env });
