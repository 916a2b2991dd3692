import { z } from "zod";

/** Lambda refuses an invocation payload over 6 MB; its answer has the same bound. */
export const lambdaPayloadLimitBytes = 6 * 1024 * 1024;

/**
 * An HTTP event in the payload format 2.0, which API Gateway HTTP APIs and function URLs both send (a
 * CloudFront distribution in front of a function URL reaches the function as a function URL event). Parsed
 * before Hono sees it, so a malformed event gets a typed 400 instead of a TypeError out of `new Request`.
 */
/**
 * Standard base64 with padding, as the front doors encode binary bodies; atob would throw on anything else.
 * Checked without a backtracking pattern, which overflows the stack on a body of megabytes.
 */
function isBase64(text: string): boolean {
  if (text.length % 4 !== 0) return false;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return !/[^A-Za-z0-9+/]/.test(text.slice(0, text.length - padding));
}

export const httpEventSchema = z.object({
  version: z.literal("2.0"),
  rawPath: z.string().startsWith("/").max(8192),
  rawQueryString: z.string().max(65536).default(""),
  headers: z.record(z.string(), z.string()).default({}),
  cookies: z.array(z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.object({
    apiId: z.string().optional(),
    // A host name with an optional port: it becomes the request URL's origin.
    domainName: z.string().regex(/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/),
    http: z.object({
      method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
      path: z.string().optional(),
    }),
  }),
}).refine((event) => !event.isBase64Encoded || event.body === undefined || isBase64(event.body), {
  path: ["body"],
  message: "isBase64Encoded is set but the body is not base64",
});

export type HTTPEvent = z.infer<typeof httpEventSchema>;

export type HTTPEventKind = "api-gateway-v2" | "function-url" | "cloudfront-function-url";

/**
 * Which front door sent the event. CloudFront forwards to a function URL origin with its own `via` and
 * `x-amz-cf-id` headers and the function URL's host, so the viewer's host is never in the event.
 */
export function eventKind(event: HTTPEvent): HTTPEventKind {
  if (!/\.lambda-url\.[a-z0-9-]+\.on\.aws$/.test(event.requestContext.domainName)) return "api-gateway-v2";
  const via = event.headers["via"] ?? "";
  return event.headers["x-amz-cf-id"] !== undefined || /cloudfront/i.test(via) ? "cloudfront-function-url" : "function-url";
}

/** The body as bytes, or undefined when the event has none. */
export function eventBodyBytes(event: HTTPEvent): number {
  if (event.body === undefined) return 0;
  return event.isBase64Encoded ? Buffer.byteLength(event.body, "base64") : Buffer.byteLength(event.body, "utf8");
}
