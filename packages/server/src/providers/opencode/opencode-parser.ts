import type { NewSessionEvent } from "@ciab/protocol";
import type { AgentOutputParser } from "../provider.js";
import { numberOr0 } from "../parser-helpers.js";

/** The `part` of an `opencode run --format json` line (a message part of its session). */
interface OpencodePart {
  type?: string;
  text?: string;
  tool?: string;
  callID?: string;
  reason?: string;
  cost?: number;
  tokens?: { input?: number; output?: number; reasoning?: number; cache?: { read?: number; write?: number } };
  state?: { status?: string; input?: Record<string, unknown>; output?: string; error?: string; metadata?: Record<string, unknown> };
}

/** Tools whose input names the file they change, and what they do to it. */
const fileTools = new Map<string, (part: OpencodePart) => "create" | "edit">([
  ["write", (part) => (part.state?.metadata?.exists === true ? "edit" : "create")],
  ["edit", () => "edit"],
]);

/**
 * Reads `opencode run --format json`: `step_start`, `text` (a finished text part), `reasoning` (with
 * `--thinking`), `tool_use` (a finished or failed tool call, input and output at once), `step_finish` (tokens
 * and cost of one model call; `reason` is `tool-calls` while the agent goes on) and `error`. There is no
 * closing line: the result is the text of the step that ends without tool calls.
 */
export function createOpencodeParser(): AgentOutputParser {
  let lastText = "";
  let errorMessage: string | undefined;
  let started = false;
  let resultSent = false;

  function parsePart(type: unknown, part: OpencodePart, raw: string): NewSessionEvent[] | undefined {
    switch (type) {
      case "step_start":
        started = true;
        return [];
      case "text":
        lastText = part.text ?? "";
        return [{ type: "agent.message", data: { text: lastText }, raw }];
      case "reasoning":
        return [{ type: "agent.thinking", data: { text: part.text ?? "" }, raw }];
      case "tool_use":
        return toolEvents(part, raw);
      case "step_finish":
        return stepFinished(part, raw);
      default:
        return undefined;
    }
  }

  function stepFinished(part: OpencodePart, raw: string): NewSessionEvent[] {
    const tokens = part.tokens ?? {};
    const usage = {
      input_tokens: numberOr0(tokens.input),
      output_tokens: numberOr0(tokens.output) + numberOr0(tokens.reasoning),
      cache_read_tokens: numberOr0(tokens.cache?.read),
      cache_write_tokens: numberOr0(tokens.cache?.write),
      cost_usd: numberOr0(part.cost),
      source: "agent",
    };
    const events: NewSessionEvent[] = [];
    if (part.reason !== "tool-calls" && !resultSent) {
      resultSent = true;
      events.push({ type: "agent.result", data: { text: lastText, is_error: false }, raw });
    }
    return [...events, { type: "usage.reported", data: usage, raw }];
  }

  return {
    parseLine(line) {
      try {
        const parsed = asObject(JSON.parse(line));
        if (parsed?.type === "error") {
          const error = asObject(parsed.error);
          errorMessage = String(asObject(error?.data)?.message ?? error?.name ?? "opencode reported an error");
          return [{ type: "session.error", data: { code: "agent_error", message: errorMessage }, raw: line }];
        }
        const part = asObject(parsed?.part);
        const events = part ? parsePart(parsed?.type, part as OpencodePart, line) : undefined;
        if (events) return events;
      } catch {
        // Not JSON: passed on as is.
      }
      return [{ type: "agent.output", data: { line }, raw: line }];
    },
    finish() {
      if (resultSent || (!started && errorMessage === undefined)) return [];
      resultSent = true;
      const text = errorMessage ?? (lastText || "opencode exited before its last step finished");
      return [{ type: "agent.result", data: { text, is_error: true } }];
    },
  };
}

function toolEvents(part: OpencodePart, raw: string): NewSessionEvent[] {
  const callID = part.callID ?? "";
  const name = part.tool ?? "";
  const input = part.state?.input ?? {};
  const failed = part.state?.status === "error";
  const output = failed ? (part.state?.error ?? "") : (part.state?.output ?? "");
  const events: NewSessionEvent[] = [
    { type: "tool.call", data: { call_id: callID, name, input }, raw },
    { type: "tool.result", data: { call_id: callID, name, output, is_error: failed }, raw },
  ];
  const action = fileTools.get(name);
  if (action && !failed && typeof input.filePath === "string") {
    events.push({ type: "file.changed", data: { path: input.filePath, action: action(part) }, raw });
  }
  return events;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

