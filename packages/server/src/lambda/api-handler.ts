import { handle } from "hono/aws-lambda";
import { CiabError } from "@ciab/protocol";
import { createApp } from "../api/app.js";
import type { ControlPlane } from "../control-plane.js";
import { createLambdaApp } from "./lambda-app.js";
import type { StreamWindow } from "./lambda-answer.js";
import { openLambdaControlPlane } from "./lambda-control-plane.js";
import { httpEventSchema } from "./lambda-event.js";

/** What the Lambda returns for an HTTP event (payload format 2.0). */
export interface HTTPResult {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

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
  let ready: Promise<{ plane: ControlPlane; serve: ReturnType<typeof handle> }> | undefined;

  async function coldStart() {
    const { plane, logger } = await openLambdaControlPlane({ env: options.env });
    const app = createLambdaApp({
      api: createApp(plane.appDependencies),
      logger,
      publicURL: plane.config.server.public_url,
      previewDomain: plane.config.previews.domain,
      ...(options.streamWindow && { streamWindow: options.streamWindow }),
    });
    return { plane, serve: handle(app) };
  }

  const handler = async (event: unknown, context?: unknown): Promise<HTTPResult> => {
    const parsed = httpEventSchema.safeParse(event);
    if (!parsed.success) {
      const where = parsed.error.issues[0]?.path.join(".") || "the event";
      return errorResult(new CiabError("invalid_request", `not an HTTP event of payload format 2.0 (${where}: ${parsed.error.issues[0]?.message})`));
    }
    const { method } = parsed.data.requestContext.http;
    if (parsed.data.body !== undefined && (method === "GET" || method === "HEAD")) {
      return errorResult(new CiabError("invalid_request", `a ${method} request carries no body`));
    }
    ready ??= coldStart().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    const { serve } = await ready;
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

function errorResult(error: CiabError): HTTPResult {
  return { statusCode: error.status, headers: { "content-type": "application/json" }, body: JSON.stringify(error.toBody()), isBase64Encoded: false };
}

/** The Lambda entry point (NodejsFunction `entry`, handler `handler`), configured by CIAB_* variables. */
export const handler = createAPIHandler({ env: process.env });
