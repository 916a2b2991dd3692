import { describe, expect, test } from "vitest";
import { loadConfig } from "../config/load-config.js";
import { joinUpstreamURL } from "./gateway-config.js";

test.each([
  ["https://api.openai.com", "/v1/chat/completions", "", "https://api.openai.com/v1/chat/completions"],
  ["https://api.openai.com/v1", "/v1/chat/completions", "", "https://api.openai.com/v1/chat/completions"],
  ["https://api.openai.com/v1/", "/chat/completions", "", "https://api.openai.com/v1/chat/completions"],
  ["https://proxy.example/llm/v1", "/v1/responses", "", "https://proxy.example/llm/v1/responses"],
  ["https://api.anthropic.com", "/v1/messages", "beta=true", "https://api.anthropic.com/v1/messages?beta=true"],
  [
    "https://generativelanguage.googleapis.com",
    "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
    "alt=sse&x=a%20b+c",
    "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&x=a%20b+c",
  ],
  ["http://127.0.0.1:9000", "/", "", "http://127.0.0.1:9000/"],
])("%s + %s ?%s", (base, path, query, expected) => {
  expect(joinUpstreamURL(base, path, query).href).toBe(expected);
});

test("[gateway] base URLs default to the providers and are settable by env", () => {
  const config = loadConfig({ configPath: undefined, env: { CIAB_GATEWAY_OPENAI_BASE_URL: "http://127.0.0.1:4000/v1" } });
  expect(config.gateway).toEqual({
    anthropic_base_url: "https://api.anthropic.com",
    openai_base_url: "http://127.0.0.1:4000/v1",
    google_base_url: "https://generativelanguage.googleapis.com",
  });
  expect(() => loadConfig({ env: { CIAB_GATEWAY_ANTHROPIC_BASE_URL: "ftp://x" } })).toThrow(/CIAB_GATEWAY_ANTHROPIC_BASE_URL/);
});

describe("joinUpstreamURL refuses to climb out of the base path", () => {
  test.each(["/v1/../../internal/x", "/v1/%2e%2e/%2E%2E/internal", "/v1/./x"])("%s", (path) => {
    expect(() => joinUpstreamURL("https://proxy.example/llm/openai/v1", path, "")).toThrow(/no \. or \.\. path segments/);
  });
});

