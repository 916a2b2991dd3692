import type { NewSessionEvent } from "@ciab/protocol";
import type { AgentOutputParser } from "../provider.js";
import { numberOr0 } from "../parser-helpers.js";

/** `result.stats` of `--output-format stream-json`; `input` is the uncached part of `input_tokens`. */
interface GeminiStats {
  input_tokens?: number;
  output_tokens?: number;
  cached?: number;
  input?: number;
  models?: Record<string, unknown>;
}

/**
 * Reads `gemini --output-format stream-json`: `init`, `message` (the user's prompt, then the assistant's
 * text in `delta` pieces), `tool_use`, `tool_result`, `error` and a final `result` with stats. The pieces
 * of a message become deltas and, once a tool call or the result ends it, one `agent.message`.
 */
export function createGeminiCLIParser(): AgentOutputParser {
  const toolNames = new Map<string, string>();
  let pending = "";
  let lastMessage = "";
  let started = false;
  let finished = false;

  function flush(raw?: string): NewSessionEvent[] {
    if (pending === "") return [];
    lastMessage = pending;
    pending = "";
    return [{ type: "agent.message", data: { text: lastMessage }, ...(raw === undefined ? {} : { raw }) }];
  }

  function parseEvent(line: Record<string, unknown>, raw: string): NewSessionEvent[] | undefined {
    switch (line.type) {
      case "init":
        started = true;
        return [];
      case "message": {
        if (line.role === "user") return [];
        if (line.role !== "assistant" || typeof line.content !== "string") return undefined;
        if (line.delta !== true) return [...flush(raw), ...setMessage(line.content, raw)];
        pending += line.content;
        return [{ type: "agent.message.delta", data: { text: line.content }, raw }];
      }
      case "tool_use": {
        const callID = String(line.tool_id ?? "");
        const name = String(line.tool_name ?? "");
        toolNames.set(callID, name);
        const events = flush(raw);
        // The result is what the agent says after its last tool call.
        lastMessage = "";
        return [...events, { type: "tool.call", data: { call_id: callID, name, input: line.parameters ?? {} }, raw }];
      }
      case "tool_result": {
        const callID = String(line.tool_id ?? "");
        const error = asObject(line.error);
        const output = typeof line.output === "string" ? line.output : String(error?.message ?? "");
        const data = { call_id: callID, name: toolNames.get(callID), output, is_error: line.status === "error" };
        return [{ type: "tool.result", data, raw }];
      }
      case "error": {
        const code = line.severity === "warning" ? "agent_warning" : "agent_error";
        return [{ type: "session.error", data: { code, message: String(line.message ?? "") }, raw }];
      }
      case "result":
        finished = true;
        return [...flush(raw), ...result(line, raw)];
      default:
        return undefined;
    }
  }

  function setMessage(text: string, raw: string): NewSessionEvent[] {
    lastMessage = text;
    return [{ type: "agent.message", data: { text }, raw }];
  }

  function result(line: Record<string, unknown>, raw: string): NewSessionEvent[] {
    const events: NewSessionEvent[] = [];
    if (line.status === "success") {
      events.push({ type: "agent.result", data: { text: lastMessage, is_error: false }, raw });
    } else {
      const message = String(asObject(line.error)?.message ?? `gemini finished with status ${String(line.status)}`);
      events.push({ type: "session.error", data: { code: "agent_error", message }, raw });
      events.push({ type: "agent.result", data: { text: message, is_error: true }, raw });
    }
    const stats = asObject(line.stats) as GeminiStats | undefined;
    if (stats !== undefined) events.push({ type: "usage.reported", data: usage(stats), raw });
    return events;
  }

  return {
    parseLine(line) {
      try {
        const parsed = asObject(JSON.parse(line));
        const events = parsed ? parseEvent(parsed, line) : undefined;
        if (events) return events;
      } catch {
        // Not JSON (gemini prints warnings on stdout at times): passed on as is.
      }
      return [{ type: "agent.output", data: { line }, raw: line }];
    },
    finish() {
      const events = flush();
      if (started && !finished) {
        finished = true;
        events.push({ type: "agent.result", data: { text: lastMessage || "gemini exited without a result", is_error: true } });
      }
      return events;
    },
  };
}

function usage(stats: GeminiStats): Record<string, unknown> {
  const cached = numberOr0(stats.cached);
  const models = Object.keys(stats.models ?? {});
  return {
    input_tokens: typeof stats.input === "number" ? stats.input : Math.max(0, numberOr0(stats.input_tokens) - cached),
    output_tokens: numberOr0(stats.output_tokens),
    cache_read_tokens: cached,
    cost_usd: 0,
    ...(models.length === 1 ? { model: models[0] } : {}),
    source: "agent",
  };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

