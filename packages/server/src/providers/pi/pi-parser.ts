import type { NewSessionEvent } from "@ciab/protocol";
import type { AgentOutputParser } from "../provider.js";
import { contentText, unknownLine, numberOr0, isObject, type JSONObject } from "../parser-helpers.js";

/** Lines longer than this are not copied into `raw`; pi's `message_update` lines repeat the whole message. */
const maximumRawLength = 8192;

/** pi lines that carry nothing the other lines do not also say. */
const silentTypes = new Set(["session", "agent_start", "turn_end", "message_start", "tool_execution_start", "tool_execution_update", "queue_update"]);

interface UsageTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  cost: number;
}

/**
 * Reads `pi --mode json`: lifecycle lines, `message_update` (one streaming event plus the whole partial
 * message: only the delta is used), `message_end` (the complete message), `tool_execution_end` and
 * `agent_end`. pi prints no result line, so `agent_end` produces `agent.result` and the summed usage.
 */
export class PiParser implements AgentOutputParser {
  private turns = 0;
  private model: string | undefined;
  private lastText = "";
  private lastError: string | undefined;
  /** Text streamed for the assistant message in progress, given out by `finish()` if it never ends. */
  private streamingText = "";
  private ended = false;
  private readonly usage: UsageTotals = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cost: 0 };
  private readonly calls = new Map<string, { name: string; input: unknown }>();

  parseLine(line: string): NewSessionEvent[] {
    if (line.trim() === "") return [];
    try {
      const message = JSON.parse(line) as unknown;
      if (!isObject(message)) return [unknownLine(line)];
      return this.parseMessage(message, line.length <= maximumRawLength ? line : undefined) ?? [unknownLine(line)];
    } catch {
      return [unknownLine(line)];
    }
  }

  finish(): NewSessionEvent[] {
    if (this.ended || this.streamingText === "") return [];
    const text = this.streamingText;
    this.streamingText = "";
    return [{ type: "agent.message", data: { text } }];
  }

  /** `undefined` means "not understood". */
  private parseMessage(line: JSONObject, raw: string | undefined): NewSessionEvent[] | undefined {
    const make = (type: NewSessionEvent["type"], data: JSONObject): NewSessionEvent => (raw === undefined ? { type, data } : { type, data, raw });
    if (typeof line.type === "string" && silentTypes.has(line.type)) return [];
    switch (line.type) {
      case "turn_start":
        this.turns += 1;
        return [];
      case "message_update":
        return this.parseUpdate(line.assistantMessageEvent);
      case "message_end":
        return this.parseMessageEnd(line.message, make);
      case "tool_execution_end":
        return this.parseToolEnd(line, make);
      case "agent_end":
        return this.parseAgentEnd(make);
      default:
        return undefined;
    }
  }

  private parseUpdate(event: unknown): NewSessionEvent[] | undefined {
    if (!isObject(event)) return undefined;
    if (event.type === "text_delta" && typeof event.delta === "string") {
      this.streamingText += event.delta;
      return [{ type: "agent.message.delta", data: { text: event.delta } }];
    }
    return [];
  }

  private parseMessageEnd(message: unknown, make: EventMaker): NewSessionEvent[] | undefined {
    if (!isObject(message)) return undefined;
    if (message.role !== "assistant") return [];
    this.streamingText = "";
    if (typeof message.model === "string") this.model = message.model;
    this.addUsage(message.usage);
    this.lastError = message.stopReason === "error" || message.stopReason === "aborted" ? String(message.errorMessage ?? message.stopReason) : undefined;
    const events: NewSessionEvent[] = [];
    const texts: string[] = [];
    for (const block of Array.isArray(message.content) ? message.content : []) {
      if (!isObject(block)) continue;
      if (block.type === "text" && typeof block.text === "string") {
        texts.push(block.text);
        events.push(make("agent.message", { text: block.text }));
      } else if (block.type === "thinking" && typeof block.thinking === "string") {
        events.push(make("agent.thinking", { text: block.thinking }));
      } else if (block.type === "toolCall" && typeof block.id === "string" && typeof block.name === "string") {
        this.calls.set(block.id, { name: block.name, input: block.arguments });
        events.push(make("tool.call", { call_id: block.id, name: block.name, input: block.arguments ?? {} }));
      }
    }
    if (texts.length > 0) this.lastText = texts.join("\n");
    return events;
  }

  private parseToolEnd(line: JSONObject, make: EventMaker): NewSessionEvent[] | undefined {
    if (typeof line.toolCallId !== "string") return undefined;
    const call = this.calls.get(line.toolCallId);
    const name = typeof line.toolName === "string" ? line.toolName : call?.name;
    const isError = line.isError === true;
    const result = line.result;
    const output = isObject(result) ? contentText(result.content) : typeof result === "string" ? result : "";
    const events = [make("tool.result", { call_id: line.toolCallId, ...(name === undefined ? {} : { name }), output, is_error: isError })];
    const filePath = isObject(call?.input) ? call.input.path : undefined;
    if (!isError && typeof filePath === "string" && (name === "write" || name === "edit")) {
      // pi does not say whether write replaced a file; a write is reported as a creation.
      events.push(make("file.changed", { path: filePath, action: name === "write" ? "create" : "edit" }));
    }
    return events;
  }

  private parseAgentEnd(make: EventMaker): NewSessionEvent[] {
    this.ended = true;
    const isError = this.lastError !== undefined;
    const result = make("agent.result", { text: isError ? this.lastError : this.lastText, is_error: isError, num_turns: this.turns });
    const usage: JSONObject = {
      input_tokens: this.usage.input,
      output_tokens: this.usage.output,
      cache_read_tokens: this.usage.cacheRead,
      cache_write_tokens: this.usage.cacheWrite,
      cost_usd: this.usage.cost,
      source: "agent",
    };
    if (this.model !== undefined) usage.model = this.model;
    return [result, { type: "usage.reported", data: usage }];
  }

  private addUsage(usage: unknown): void {
    if (!isObject(usage)) return;
    this.usage.input += numberOr0(usage.input);
    this.usage.output += numberOr0(usage.output);
    this.usage.cacheRead += numberOr0(usage.cacheRead);
    this.usage.cacheWrite += numberOr0(usage.cacheWrite);
    this.usage.cost += isObject(usage.cost) ? numberOr0(usage.cost.total) : 0;
  }
}

type EventMaker = (type: NewSessionEvent["type"], data: JSONObject) => NewSessionEvent;

