import { describe, expect, test } from "vitest";
import { gatewayPathSegments } from "./gateway-path.js";
import { isAllowedRoute } from "./gateway-routes.js";

describe("gatewayPathSegments refuses every spelling of a climb or a hidden separator", () => {
  test.each([
    "/v1/../admin",
    "/v1/./messages",
    "/..",
    "/v1/%2e%2e/admin",
    "/v1/%2E%2e/admin",
    "/v1/.%2e/admin",
    "/v1/%2e/messages",
    "/v1%2fmessages",
    "/v1%2Fmessages",
    "/v1%5cmessages",
    "/v1%5Cmessages",
    "/v1\\..\\admin",
    "/v1/messages\\",
    "/v1/%252e%252e/admin",
    "/v1/%252f",
    "/v1/%25%32%65",
    "/v1//messages",
    "/v1/mess%00ages",
    "/v1/mess%0aages",
    "/v1/messages#x",
    "/v1/messages other",
    "/v1/mèssages",
    "v1/messages",
  ])("%s", (path) => {
    expect(() => gatewayPathSegments(path)).toThrow(expect.objectContaining({ code: "forbidden" }));
  });

  test("plain paths pass, segments as sent", () => {
    expect(gatewayPathSegments("/v1/messages")).toEqual({ segments: ["v1", "messages"], trailingSlash: false });
    expect(gatewayPathSegments("/v1beta/models/gemini-2.5-flash:streamGenerateContent").segments).toHaveLength(3);
    expect(gatewayPathSegments("/v1/models/").trailingSlash).toBe(true);
    expect(gatewayPathSegments("/v1/models/claude%2Bx").segments).toEqual(["v1", "models", "claude%2Bx"]);
  });
});

describe("isAllowedRoute: each API's own generation, counting and model routes only", () => {
  test.each([
    ["anthropic", "POST", "/v1/messages"],
    ["anthropic", "POST", "/v1/messages/count_tokens"],
    ["anthropic", "GET", "/v1/models"],
    ["anthropic", "GET", "/v1/models/claude-sonnet-4-5"],
    ["openai", "POST", "/v1/chat/completions"],
    ["openai", "POST", "/chat/completions"],
    ["openai", "POST", "/v1/responses"],
    ["openai", "GET", "/v1/models"],
    ["google", "POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent"],
    ["google", "POST", "/v1/models/gemini-2.5-flash:generateContent"],
    ["google", "POST", "/v1beta/models/gemini-2.5-flash:countTokens"],
    ["google", "GET", "/v1beta/models"],
  ] as const)("%s %s %s is forwarded", (api, method, path) => {
    expect(isAllowedRoute(api, method, path)).toBe(true);
  });

  test.each([
    ["anthropic", "GET", "/v1/messages"],
    ["anthropic", "POST", "/v1/messages/batches"],
    ["anthropic", "GET", "/v1/organizations/api_keys"],
    ["anthropic", "POST", "/v1/files"],
    ["anthropic", "POST", "/v1/chat/completions"],
    ["openai", "POST", "/v1/files"],
    ["openai", "POST", "/v1/fine_tuning/jobs"],
    ["openai", "GET", "/v1/organization/admin_api_keys"],
    ["openai", "DELETE", "/v1/models/gpt-5"],
    ["openai", "POST", "/v1/messages"],
    ["google", "POST", "/v1beta/tunedModels"],
    ["google", "POST", "/v1beta/files"],
    ["google", "POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent/extra"],
    ["google", "POST", "/v1beta/cachedContents"],
    ["google", "POST", "/upload/v1beta/files"],
  ] as const)("%s %s %s is not", (api, method, path) => {
    expect(isAllowedRoute(api, method, path)).toBe(false);
  });
});
