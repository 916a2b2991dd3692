import { StringDecoder } from "node:string_decoder";
import type { GatewayAPI } from "./gateway-config.js";
import type { UsageTokens } from "./model-prices.js";

export interface MeteredUsage extends UsageTokens {
  model: string;
}

/** Reads usage out of a response body chunk by chunk, beside the bytes that stream on to the agent. */
export interface UsageMeter {
  push(chunk: Buffer): void;
  /** The usage seen so far; undefined when the response carried none (an error answer, a models list). */
  finish(): MeteredUsage | undefined;
}

/** Bodies and SSE lines past this are not read for usage (they still stream through). */
const maxBufferedChars = 16 * 1024 * 1024;

type JSONObject = Record<string, unknown>;

/**
 * A meter for one response. SSE bodies are read line by line and only `data:` lines that mention usage are
 * parsed, so the cost per chunk stays a substring search; JSON bodies (including Google's streamed JSON
 * array) are parsed once at the end. `requestPath` names the model for Google, whose stream may not.
 */
export function createUsageMeter(api: GatewayAPI, contentType: string, requestPath: string): UsageMeter {
  const state = new UsageState(api, modelFromPath(requestPath));
  const decoder = new StringDecoder("utf8");
  const isSSE = contentType.includes("text/event-stream");
  const isJSON = !isSSE && contentType.includes("json");
  let pending = "";
  let overflowed = false;

  const readLines = (final: boolean): void => {
    let start = 0;
    for (let end = pending.indexOf("\n"); end !== -1; end = pending.indexOf("\n", start)) {
      readSSELine(pending.slice(start, end));
      start = end + 1;
    }
    const rest = pending.slice(start);
    pending = final ? "" : rest;
    if (final && rest !== "") readSSELine(rest);
  };
  const readSSELine = (line: string): void => {
    if (!line.startsWith("data:") || !line.includes("sage")) return; // "usage" / "usageMetadata"
    const parsed = parseJSON(line.slice(5).trim());
    if (parsed !== undefined) state.absorb(parsed);
  };

  return {
    push(chunk) {
      if (overflowed || (!isSSE && !isJSON)) return;
      pending += decoder.write(chunk);
      if (isSSE) readLines(false);
      if (pending.length > maxBufferedChars) {
        overflowed = true;
        pending = "";
      }
    },
    finish() {
      if (!overflowed && (isSSE || isJSON)) {
        pending += decoder.end();
        if (isSSE) readLines(true);
        else {
          const parsed = parseJSON(pending);
          for (const item of Array.isArray(parsed) ? parsed : [parsed]) state.absorb(item);
        }
      }
      return state.result();
    },
  };
}

class UsageState {
  private model: string | undefined;
  private tokens: UsageTokens | undefined;

  constructor(
    private readonly api: GatewayAPI,
    private readonly pathModel: string | undefined,
  ) {}

  absorb(value: unknown): void {
    if (!isObject(value)) return;
    if (this.api === "anthropic") this.absorbAnthropic(value);
    else if (this.api === "openai") this.absorbOpenAI(value);
    else this.absorbGoogle(value);
  }

  result(): MeteredUsage | undefined {
    if (!this.tokens) return undefined;
    return { model: this.model ?? this.pathModel ?? "unknown", ...this.tokens };
  }

  /** `message_start.message` carries model and input usage; `message_delta.usage` the running output count. */
  private absorbAnthropic(value: JSONObject): void {
    const message = isObject(value.message) ? value.message : value;
    if (typeof message.model === "string") this.model = message.model;
    const usage = isObject(message.usage) ? message.usage : isObject(value.usage) ? value.usage : undefined;
    if (!usage) return;
    const tokens = this.tokens ?? emptyTokens();
    tokens.input_tokens = count(usage.input_tokens) ?? tokens.input_tokens;
    tokens.output_tokens = count(usage.output_tokens) ?? tokens.output_tokens;
    tokens.cache_read_tokens = count(usage.cache_read_input_tokens) ?? tokens.cache_read_tokens;
    tokens.cache_write_tokens = count(usage.cache_creation_input_tokens) ?? tokens.cache_write_tokens;
    this.tokens = tokens;
  }

  /** Chat completions (`prompt_tokens`, final chunk) and Responses (`input_tokens`, `response.completed`). */
  private absorbOpenAI(value: JSONObject): void {
    if (isObject(value.response)) return this.absorbOpenAI(value.response);
    if (typeof value.model === "string") this.model = value.model;
    const usage = value.usage;
    if (!isObject(usage)) return;
    const details = isObject(usage.prompt_tokens_details)
      ? usage.prompt_tokens_details
      : isObject(usage.input_tokens_details)
        ? usage.input_tokens_details
        : {};
    const cached = count(details.cached_tokens) ?? 0;
    const input = count(usage.prompt_tokens) ?? count(usage.input_tokens) ?? 0;
    this.tokens = {
      input_tokens: Math.max(0, input - cached),
      output_tokens: count(usage.completion_tokens) ?? count(usage.output_tokens) ?? 0,
      cache_read_tokens: cached,
      cache_write_tokens: 0,
    };
  }

  /** `usageMetadata` is cumulative in every chunk of a stream; the last one wins. */
  private absorbGoogle(value: JSONObject): void {
    if (typeof value.modelVersion === "string") this.model = value.modelVersion;
    const usage = value.usageMetadata;
    if (!isObject(usage)) return;
    const cached = count(usage.cachedContentTokenCount) ?? 0;
    const prompt = (count(usage.promptTokenCount) ?? 0) + (count(usage.toolUsePromptTokenCount) ?? 0);
    this.tokens = {
      input_tokens: Math.max(0, prompt - cached),
      output_tokens: (count(usage.candidatesTokenCount) ?? 0) + (count(usage.thoughtsTokenCount) ?? 0),
      cache_read_tokens: cached,
      cache_write_tokens: 0,
    };
  }
}

/** `/v1beta/models/gemini-2.5-flash:streamGenerateContent` → `gemini-2.5-flash`. */
function modelFromPath(path: string): string | undefined {
  const match = /\/models\/([^/:?]+)/.exec(path);
  return match?.[1];
}

function emptyTokens(): UsageTokens {
  return { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 };
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function isObject(value: unknown): value is JSONObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
