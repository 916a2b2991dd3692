import type { NewSessionEvent } from "@ciab/protocol";
import type { AgentOutputParser } from "../provider.js";
import { contentText, unknownLine, numberOr0, isObject, type JSONObject } from "../parser-helpers.js";

/** Tools whose successful result means a file changed; their input names the file. */
const fileTools: Record<string, string> = { Write: "file_path", Edit: "file_path", MultiEdit: "file_path", NotebookEdit: "notebook_path" };

/** Lines longer than this are not copied into `raw`: the event already holds what matters. */
const maximumRawLength = 8192;

/**
 * Reads `claude -p --output-format stream-json --verbose [--include-partial-messages]`: `system`,
 * `stream_event` (raw API stream), `assistant`, `user` (tool results) and a final `result` line.
 */
export class ClaudeCodeParser implements AgentOutputParser {
  private model: string | undefined;
  private readonly calls = new Map<string, { name: string; input: unknown }>();

  parseLine(line: string): NewSessionEvent[] {
    if (line.trim() === "") return [];
    try {
      const message = JSON.parse(line) as unknown;
      if (!isObject(message)) return [unknownLine(line)];
      return this.parseMessage(message, line) ?? [unknownLine(line)];
    } catch {
      return [unknownLine(line)];
    }
  }

  finish(): NewSessionEvent[] {
    return [];
  }

  /** `undefined` means "not understood". */
  private parseMessage(message: JSONObject, line: string): NewSessionEvent[] | undefined {
    const raw = line.length <= maximumRawLength ? line : undefined;
    const withRaw = (type: NewSessionEvent["type"], data: JSONObject): NewSessionEvent => (raw === undefined ? { type, data } : { type, data, raw });
    switch (message.type) {
      case "system":
        // `status` only says a request is under way; api_retry, permission_denied… stay visible as output.
        if (message.subtype === "status") return [];
        if (message.subtype === "api_retry") return [{ type: "session.error", data: { code: "agent_retrying", message: retryMessage(message) } }];
        if (message.subtype !== "init") return undefined;
        if (typeof message.model === "string") this.model = message.model;
        return [];
      case "stream_event":
        return this.parseStreamEvent(message.event);
      case "assistant":
        return this.parseAssistant(message.message, withRaw);
      case "user":
        return this.parseUser(message, withRaw);
      case "result":
        return this.parseResult(message, withRaw);
      default:
        return undefined;
    }
  }

  /** Only text deltas matter: everything else reappears whole in the `assistant` line. */
  private parseStreamEvent(event: unknown): NewSessionEvent[] | undefined {
    if (!isObject(event) || typeof event.type !== "string") return undefined;
    const delta = event.delta;
    if (event.type === "content_block_delta" && isObject(delta) && delta.type === "text_delta" && typeof delta.text === "string") {
      return [{ type: "agent.message.delta", data: { text: delta.text } }];
    }
    return [];
  }

  private parseAssistant(message: unknown, withRaw: EventMaker): NewSessionEvent[] | undefined {
    if (!isObject(message) || !Array.isArray(message.content)) return undefined;
    // Errors come back as messages from the `<synthetic>` model, which is not the one billed.
    if (typeof message.model === "string" && !message.model.startsWith("<")) this.model = message.model;
    const events: NewSessionEvent[] = [];
    for (const block of message.content) {
      if (!isObject(block)) continue;
      if (block.type === "text" && typeof block.text === "string") events.push(withRaw("agent.message", { text: block.text }));
      else if (block.type === "thinking" && typeof block.thinking === "string") events.push(withRaw("agent.thinking", { text: block.thinking }));
      else if (block.type === "tool_use" && typeof block.id === "string" && typeof block.name === "string") {
        this.calls.set(block.id, { name: block.name, input: block.input });
        events.push(withRaw("tool.call", { call_id: block.id, name: block.name, input: block.input ?? {} }));
      }
    }
    return events;
  }

  private parseUser(line: JSONObject, withRaw: EventMaker): NewSessionEvent[] | undefined {
    const message = line.message;
    if (!isObject(message)) return undefined;
    if (!Array.isArray(message.content)) return [];
    const events: NewSessionEvent[] = [];
    for (const block of message.content) {
      if (!isObject(block) || block.type !== "tool_result" || typeof block.tool_use_id !== "string") continue;
      const call = this.calls.get(block.tool_use_id);
      const isError = block.is_error === true;
      const data: JSONObject = { call_id: block.tool_use_id, output: contentText(block.content), is_error: isError };
      if (call !== undefined) data.name = call.name;
      events.push(withRaw("tool.result", data));
      const change = call === undefined || isError ? undefined : fileChange(call, line.tool_use_result);
      if (change !== undefined) events.push(withRaw("file.changed", change));
    }
    return events;
  }

  private parseResult(message: JSONObject, withRaw: EventMaker): NewSessionEvent[] {
    const isError = message.is_error === true || (typeof message.subtype === "string" && message.subtype !== "success");
    const errors = Array.isArray(message.errors) ? message.errors.filter((error) => typeof error === "string").join("\n") : "";
    const text = typeof message.result === "string" ? message.result : errors;
    const result: JSONObject = { text, is_error: isError };
    if (typeof message.num_turns === "number") result.num_turns = message.num_turns;
    const events = [withRaw("agent.result", result)];
    const usage = message.usage;
    if (isObject(usage)) {
      const data: JSONObject = {
        input_tokens: numberOr0(usage.input_tokens),
        output_tokens: numberOr0(usage.output_tokens),
        cache_read_tokens: numberOr0(usage.cache_read_input_tokens),
        cache_write_tokens: numberOr0(usage.cache_creation_input_tokens),
        cost_usd: numberOr0(message.total_cost_usd),
        source: "agent",
      };
      if (this.model !== undefined) data.model = this.model;
      events.push({ type: "usage.reported", data });
    }
    return events;
  }
}

type EventMaker = (type: NewSessionEvent["type"], data: JSONObject) => NewSessionEvent;

/** Claude Code's own `tool_use_result` says whether Write created or replaced the file. */
function fileChange(call: { name: string; input: unknown }, toolUseResult: unknown): JSONObject | undefined {
  const pathKey = fileTools[call.name];
  if (pathKey === undefined) return undefined;
  const resultPath = isObject(toolUseResult) ? toolUseResult.filePath : undefined;
  const inputPath = isObject(call.input) ? call.input[pathKey] : undefined;
  const filePath = typeof resultPath === "string" ? resultPath : inputPath;
  if (typeof filePath !== "string") return undefined;
  const created = isObject(toolUseResult) && toolUseResult.type === "create";
  return { path: filePath, action: created ? "create" : "edit" };
}


/**
 * One line for a retried model call (`system`/`api_retry`): which attempt, when, and what failed. Each field
 * is optional and shown only when it has the expected type: the line comes from the sandbox.
 */
function retryMessage(message: JSONObject): string {
  const attempt = typeof message.attempt === "number" ? message.attempt : undefined;
  const max = typeof message.max_retries === "number" ? message.max_retries : undefined;
  const delay = typeof message.retry_delay_ms === "number" ? message.retry_delay_ms : undefined;
  const status = typeof message.error_status === "number" ? message.error_status : undefined;
  const error = typeof message.error === "string" ? message.error.slice(0, 200) : undefined;
  const which = attempt === undefined ? "" : ` (attempt ${attempt}${max === undefined ? "" : ` of ${max}`})`;
  const when = delay === undefined ? "" : ` in ${(delay / 1000).toFixed(1)} s`;
  const why = [error, status === undefined ? undefined : `HTTP ${status}`].filter((part) => part !== undefined).join(", ");
  return `retrying the model API${which}${when}${why ? `: ${why}` : ""}`;
}
