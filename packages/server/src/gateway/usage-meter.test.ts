import { expect, test } from "vitest";
import { costOf, priceOf } from "./model-prices.js";
import { createUsageMeter } from "./usage-meter.js";

const anthropicStream = [
  'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-opus-4-1-20250805","usage":{"input_tokens":12,"cache_read_input_tokens":30,"cache_creation_input_tokens":5,"output_tokens":1}}}\n\n',
  'event: ping\ndata: {"type":"ping"}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"héllo — usage"}}\n\n',
  'event: message_delta\r\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}\r\n\r\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
].join("");

test("reads Anthropic SSE usage however the stream is cut into chunks, multi-byte characters included", () => {
  const bytes = Buffer.from(anthropicStream);
  for (const size of [1, 2, 3, 7, 64, bytes.length]) {
    const meter = createUsageMeter("anthropic", "text/event-stream; charset=utf-8", "/v1/messages");
    for (let offset = 0; offset < bytes.length; offset += size) meter.push(bytes.subarray(offset, offset + size));
    expect(meter.finish()).toEqual({
      model: "claude-opus-4-1-20250805",
      input_tokens: 12,
      output_tokens: 42,
      cache_read_tokens: 30,
      cache_write_tokens: 5,
    });
  }
});

test("reads JSON bodies: Anthropic message, OpenAI Responses, Google streamed JSON array", () => {
  const read = (api: "anthropic" | "openai" | "google", body: unknown, path = "/") => {
    const meter = createUsageMeter(api, "application/json", path);
    meter.push(Buffer.from(JSON.stringify(body)));
    return meter.finish();
  };
  expect(read("anthropic", { model: "claude-3-5-haiku-latest", usage: { input_tokens: 3, output_tokens: 4 } })).toMatchObject({
    input_tokens: 3,
    output_tokens: 4,
    cache_read_tokens: 0,
  });
  expect(read("openai", { model: "o3", usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 9 } })).toEqual({
    model: "o3",
    input_tokens: 6,
    output_tokens: 9,
    cache_read_tokens: 4,
    cache_write_tokens: 0,
  });
  const googleChunks = [
    { candidates: [], usageMetadata: { promptTokenCount: 50 } },
    { candidates: [], usageMetadata: { promptTokenCount: 50, cachedContentTokenCount: 20, candidatesTokenCount: 7, thoughtsTokenCount: 3 } },
  ];
  expect(read("google", googleChunks, "/v1beta/models/gemini-2.0-flash:streamGenerateContent")).toEqual({
    model: "gemini-2.0-flash",
    input_tokens: 30,
    output_tokens: 10,
    cache_read_tokens: 20,
    cache_write_tokens: 0,
  });
});

test("answers nothing for bodies without usage, errors and non-JSON", () => {
  const models = createUsageMeter("openai", "application/json", "/v1/models");
  models.push(Buffer.from('{"data":[{"id":"gpt-4o"}]}'));
  expect(models.finish()).toBeUndefined();
  const html = createUsageMeter("google", "text/html", "/");
  html.push(Buffer.from("<html>usage</html>"));
  expect(html.finish()).toBeUndefined();
  const broken = createUsageMeter("openai", "text/event-stream", "/");
  broken.push(Buffer.from('data: {"usage": {"prompt_tok\n\ndata: [DONE]\n\n'));
  expect(broken.finish()).toBeUndefined();
});

test("prices by the longest model-name prefix; unknown models cost 0", () => {
  expect(priceOf("gpt-4o-mini-2024-07-18")?.input).toBe(0.15);
  expect(priceOf("gpt-4o-2024-08-06")?.input).toBe(2.5);
  expect(priceOf("models/gemini-2.5-flash-lite")?.input).toBe(0.1);
  expect(priceOf("o3-mini")?.output).toBe(4.4);
  const tokens = { input_tokens: 1_000_000, output_tokens: 1_000_000, cache_read_tokens: 0, cache_write_tokens: 0 };
  expect(costOf("claude-sonnet-4-5-20250929", tokens)).toBe(18);
  expect(costOf("llama-3-70b", tokens)).toBe(0);
});
