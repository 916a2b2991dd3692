import type { NewSessionEvent, SessionEventType } from "@ciab/protocol";
import type { AgentOutputParser } from "../provider.js";
import { numberOr0, isObject } from "../parser-helpers.js";

/** One item of `codex exec --json` (`item.started` / `item.completed`); fields depend on `type`. */
interface CodexItem {
  id?: string;
  type?: string;
  text?: string;
  command?: string;
  aggregated_output?: string;
  exit_code?: number | null;
  status?: string;
  changes?: { path?: string; kind?: string }[];
  message?: string;
  server?: string;
  tool?: string;
  arguments?: unknown;
  result?: unknown;
  error?: { message?: string } | null;
}

const fileActions = new Map<string, "create" | "edit" | "delete">([
  ["add", "create"],
  ["update", "edit"],
  ["delete", "delete"],
]);

/**
 * Reads `codex exec --json` (codex-rs/exec/src/exec_events.rs): `thread.started`, `turn.started`,
 * `item.started` / `item.completed`, `turn.completed` with usage, `turn.failed`, and top-level `error`.
 * The final answer is the last `agent_message` of the turn, reported once the turn completes.
 */
export function createCodexParser(): AgentOutputParser {
  const calledItems = new Set<string>();
  let lastMessage: string | undefined;
  let turnOpen = false;

  function parseItem(phase: "started" | "completed", item: CodexItem, raw: string): NewSessionEvent[] | undefined {
    const event = (type: SessionEventType, data: Record<string, unknown>): NewSessionEvent => ({ type, data, raw });
    const callID = item.id ?? "";
    const call = (name: string, input: unknown): NewSessionEvent[] => {
      if (calledItems.has(callID)) return [];
      calledItems.add(callID);
      return [event("tool.call", { call_id: callID, name, input })];
    };
    switch (item.type) {
      case "command_execution": {
        const toolCall = call("bash", { command: item.command ?? "" });
        if (phase === "started") return toolCall;
        const failed = item.status === "failed" || (typeof item.exit_code === "number" && item.exit_code !== 0);
        const result = { call_id: callID, name: "bash", output: item.aggregated_output ?? "", is_error: failed };
        return [...toolCall, event("tool.result", result)];
      }
      case "mcp_tool_call": {
        const toolCall = call(`${item.server ?? "mcp"}.${item.tool ?? ""}`, item.arguments ?? {});
        if (phase === "started") return toolCall;
        const output = item.error?.message ?? JSON.stringify(item.result ?? null);
        return [...toolCall, event("tool.result", { call_id: callID, output, is_error: item.status === "failed" })];
      }
      case "file_change":
        if (phase === "started") return [];
        // A patch that failed changed nothing; its line is kept as agent output.
        if (item.status !== "completed") return undefined;
        return (item.changes ?? []).map((change) =>
          event("file.changed", { path: change.path ?? "", action: fileActions.get(change.kind ?? "") ?? "edit" }),
        );
      case "agent_message":
        if (phase === "started") return [];
        lastMessage = item.text ?? "";
        return [event("agent.message", { text: lastMessage })];
      case "reasoning":
        return phase === "completed" ? [event("agent.thinking", { text: item.text ?? "" })] : [];
      case "error":
        return [event("session.error", { code: "agent_error", message: item.message ?? "" })];
      default:
        return undefined;
    }
  }

  function parseEvent(line: Record<string, unknown>, raw: string): NewSessionEvent[] | undefined {
    switch (line.type) {
      case "thread.started":
        return [];
      case "turn.started":
        turnOpen = true;
        lastMessage = undefined;
        return [];
      case "item.started":
      case "item.completed": {
        const phase = line.type === "item.started" ? "started" : "completed";
        return isObject(line.item) ? parseItem(phase, line.item as CodexItem, raw) : undefined;
      }
      case "turn.completed": {
        turnOpen = false;
        const usage = isObject(line.usage) ? line.usage : {};
        const cached = numberOr0(usage.cached_input_tokens);
        // Codex counts cached tokens inside input_tokens (OpenAI's convention); ours keeps them apart.
        const reported = {
          input_tokens: Math.max(0, numberOr0(usage.input_tokens) - cached),
          output_tokens: numberOr0(usage.output_tokens),
          cache_read_tokens: cached,
          cache_write_tokens: numberOr0(usage.cache_write_input_tokens),
          cost_usd: 0,
          source: "agent",
        };
        return [
          { type: "agent.result", data: { text: lastMessage ?? "", is_error: false }, raw },
          { type: "usage.reported", data: reported, raw },
        ];
      }
      case "turn.failed": {
        turnOpen = false;
        const message = isObject(line.error) && typeof line.error.message === "string" ? line.error.message : "";
        return [
          { type: "session.error", data: { code: "agent_error", message }, raw },
          { type: "agent.result", data: { text: message, is_error: true }, raw },
        ];
      }
      case "error": {
        // Codex prints its retries as errors too; only the last one (followed by turn.failed) is final.
        const message = String(line.message ?? "");
        const code = message.startsWith("Reconnecting") ? "agent_reconnecting" : "agent_error";
        return [{ type: "session.error", data: { code, message }, raw }];
      }
      default:
        return undefined;
    }
  }

  return {
    parseLine(line) {
      try {
        const parsed = parseJSON(line);
        const events = parsed ? parseEvent(parsed, line) : undefined;
        if (events) return events;
      } catch {
        // A known type with an unexpected shape: passed on as is, like any line we cannot read.
      }
      return [{ type: "agent.output", data: { line }, raw: line }];
    },
    finish() {
      if (!turnOpen) return [];
      turnOpen = false;
      return [{ type: "agent.result", data: { text: lastMessage ?? "codex exited before its turn completed", is_error: true } }];
    },
  };
}

function parseJSON(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

