import { describe, expect, test } from "vitest";
import { createSilentLogger } from "../logger.js";
import { answerLimitBytes, boundAnswer } from "./lambda-answer.js";
import { createLambdaApp } from "./lambda-app.js";
import { eventKind, httpEventSchema } from "./lambda-event.js";

const window = { idleMs: 100, totalMs: 1_000, retryMs: 1_500 };

function stream(chunks: string[], thenHang: boolean): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      if (!thenHang) controller.close();
    },
  });
}

describe("answers bounded to what a Lambda returns", () => {
  test("an event stream answers its whole frames within the window, then a retry, and is cancelled", async () => {
    const body = stream(["id: 1\ndata: a\n\n", "id: 2\ndata: b\n\nid: 3\nda"], true);
    const started = performance.now();
    const answer = await boundAnswer(new Response(body, { headers: { "content-type": "text/event-stream" } }), window);
    expect(performance.now() - started).toBeLessThan(900);
    expect(await answer.text()).toBe("id: 1\ndata: a\n\nid: 2\ndata: b\n\nretry: 1500\n\n");
  });

  test("a body past the limit is refused whole with requires_server", async () => {
    const big = "x".repeat(answerLimitBytes + 1);
    await expect(boundAnswer(new Response(big), window)).rejects.toMatchObject({ code: "requires_server" });
    expect(await (await boundAnswer(new Response("small", { status: 201 }), window)).text()).toBe("small");
  });

  test("links are made on the public URL, not on the function URL's host CloudFront forwards to", async () => {
    const app = createLambdaApp({
      api: { fetch: (request) => Response.json({ url: request.url }) },
      logger: createSilentLogger(),
      publicURL: "https://ciab.example.test",
      previewDomain: undefined,
    });
    const answer = await app.request("https://abc.lambda-url.us-east-2.on.aws/api/v1/health?x=1");
    expect(await answer.json()).toEqual({ url: "https://ciab.example.test/api/v1/health?x=1" });
  });

  test("without a public URL, links are made on the viewer's host the distribution forwards; a malformed one is ignored", async () => {
    const app = createLambdaApp({
      api: { fetch: (request) => Response.json({ url: request.url }) },
      logger: createSilentLogger(),
      publicURL: undefined,
      previewDomain: undefined,
    });
    const url = "https://abc.lambda-url.us-east-2.on.aws/api/v1/health";
    const viewer = await app.request(url, { headers: { "x-forwarded-host": "d111.cloudfront.net" } });
    expect(await viewer.json()).toEqual({ url: "https://d111.cloudfront.net/api/v1/health" });
    const forged = await app.request(url, { headers: { "x-forwarded-host": "evil.test/x?y=" } });
    expect(await forged.json()).toEqual({ url });
  });
});

describe("event kinds", () => {
  const base = {
    version: "2.0",
    rawPath: "/",
    headers: {},
    requestContext: { http: { method: "GET" }, domainName: "r3pmxmplak.execute-api.us-east-2.amazonaws.com" },
  };
  test("tells the three front doors apart by host and CloudFront's headers", () => {
    const kind = (domainName: string, headers: Record<string, string> = {}) =>
      eventKind(httpEventSchema.parse({ ...base, headers, requestContext: { ...base.requestContext, domainName } }));
    expect(kind("r3pmxmplak.execute-api.us-east-2.amazonaws.com")).toBe("api-gateway-v2");
    expect(kind("abc.lambda-url.us-east-2.on.aws")).toBe("function-url");
    expect(kind("abc.lambda-url.us-east-2.on.aws", { "x-amz-cf-id": "x" })).toBe("cloudfront-function-url");
  });
});
