import { describe, expect, test } from "vitest";
import { createAPIHandler, originSecretHeader } from "../../packages/server/src/lambda/api-handler.js";
import { answerOf, frontDoors, lambdaEvent } from "../lambda/lambda-events.js";

/**
 * Events an anonymous caller can put before the API Lambda: through the public function URL (anything but the
 * distribution's secret header), or forged whole by whoever may invoke the function by name. The handler's env
 * names an origin secret and nothing else, so any event that got past its first checks would start a cold
 * start that throws: every answer below is given before one.
 */
const secret = "origin-secret-of-the-distribution";
const handler = createAPIHandler({ env: { CIAB_ORIGIN_VERIFY: secret, CIAB_SERVER_LOG_LEVEL: "silent" } });

describe("the origin secret", () => {
  test.each([
    ["missing", {}],
    ["empty", { [originSecretHeader]: "" }],
    ["a prefix of it", { [originSecretHeader]: secret.slice(0, -1) }],
    ["it and the caller's own, joined as duplicate headers are", { [originSecretHeader]: `${secret},${secret}` }],
    ["it with surrounding space", { [originSecretHeader]: ` ${secret}` }],
    ["it under another case of the name (front doors send names in lower case)", { "X-Ciab-Origin-Verify": secret }],
  ])("%s: refused with forbidden on every front door", async (_, headers) => {
    for (const door of frontDoors) {
      const answer = answerOf(await handler(lambdaEvent(door, { path: "/api/v1/health", headers })));
      expect(answer.status, door).toBe(403);
      expect(answer.json().error.code).toBe("forbidden");
      expect(answer.body).not.toContain(secret);
    }
  });
});

describe("malformed events get a typed 400, never a thrown error", () => {
  const right = { [originSecretHeader]: secret };
  const base = lambdaEvent("function-url", { method: "POST", path: "/api/v1/sandboxes", headers: { ...right, "content-type": "application/json" } });
  const context = base.requestContext as Record<string, unknown>;

  test.each([
    ["a body flagged base64 that is not base64", { ...base, body: "%%% not base64 %%%", isBase64Encoded: true }],
    ["a body flagged base64 with a character base64 has no place for", { ...base, body: "eyJhIjoxfQ==\u0000", isBase64Encoded: true }],
    ["a body of megabytes flagged base64, wrong only at its end", { ...base, body: `${"A".repeat(4_000_000)}%AA=`, isBase64Encoded: true }],
    ["multi-value headers (payload format 1.0)", { ...base, headers: { [originSecretHeader]: [secret] } }],
    ["a path that is not absolute", { ...base, rawPath: "api/v1/sandboxes" }],
    ["a host with a path in it", { ...base, requestContext: { ...context, domainName: "evil.test/x" } }],
    ["a method outside HTTP's", { ...base, requestContext: { ...context, http: { method: "TRACE" } } }],
  ])("%s", async (_, event) => {
    const answer = answerOf(await handler(event));
    expect(answer.status).toBe(400);
    expect(answer.json().error.code).toBe("invalid_request");
  });
});
