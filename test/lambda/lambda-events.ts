import { readFileSync } from "node:fs";
import path from "node:path";

export type FrontDoor = "api-gateway-v2" | "function-url" | "cloudfront-function-url";

export const frontDoors: FrontDoor[] = ["api-gateway-v2", "function-url", "cloudfront-function-url"];

export interface RequestShape {
  method?: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string | Buffer;
  /** Send the body base64-encoded, as the front doors do for binary bodies. */
  base64?: boolean;
}

const fixtures = path.join(import.meta.dirname, "__fixtures__");

/** A recorded event of one front door with this request in it. */
export function lambdaEvent(door: FrontDoor, request: RequestShape): Record<string, unknown> {
  const event = JSON.parse(readFileSync(path.join(fixtures, `${door}.json`), "utf8")) as Record<string, any>;
  const method = request.method ?? "GET";
  event.rawPath = request.path;
  event.rawQueryString = request.query ?? "";
  event.requestContext.http.method = method;
  event.requestContext.http.path = request.path;
  event.headers = { ...event.headers, ...request.headers };
  delete event.headers["content-length"];
  if (request.cookies) event.cookies = request.cookies;
  else delete event.cookies;
  if (request.body === undefined) {
    delete event.body;
    event.isBase64Encoded = false;
  } else {
    const bytes = Buffer.from(request.body);
    event.body = request.base64 ? bytes.toString("base64") : bytes.toString("utf8");
    event.isBase64Encoded = request.base64 ?? false;
  }
  return event;
}

export interface HTTPAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  json(): any;
}

/** Reads a handler's result (payload format 2.0) back into status, headers and text. */
export function answerOf(result: { statusCode: number; headers?: Record<string, string>; body: string; isBase64Encoded: boolean }): HTTPAnswer {
  const body = result.isBase64Encoded ? Buffer.from(result.body, "base64").toString("utf8") : result.body;
  return { status: result.statusCode, headers: result.headers ?? {}, body, json: () => JSON.parse(body) };
}
