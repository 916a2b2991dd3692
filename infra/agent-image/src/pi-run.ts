import { createHash } from "node:crypto";
import type { JobSettings } from "./job-settings.js";

/** pi headless (`--mode json -p`); the prompt is one argv entry, never a shell word. */
export function piArguments(settings: JobSettings, prompt: string): string[] {
  const argv = ["--mode", "json", "-p", "--no-session"];
  if (settings.provider !== undefined) argv.push("--provider", settings.provider);
  if (settings.model !== undefined) argv.push("--model", settings.model);
  argv.push(safePrompt(prompt));
  return argv;
}

/** pi has no `--`: a prompt starting with `-` would be a flag and one starting with `@` a file to attach. */
function safePrompt(prompt: string): string {
  return /^[-@]/.test(prompt) ? ` ${prompt}` : prompt;
}

/**
 * Follows pi's JSON lines for what the exit code alone does not tell: pi exits 0 after a model call that
 * failed, so the run's verdict comes from the last assistant message's stop reason.
 */
export class PiVerdict {
  #failure: string | undefined;

  observe(event: PiLine): void {
    if (event.type !== "message_end" && event.type !== "agent_end") return;
    const message = event.type === "message_end" ? event.message : event.messages?.at(-1);
    if (message?.role !== "assistant") return;
    this.#failure = message.stopReason === "error" || message.stopReason === "aborted" ? message.errorMessage ?? message.stopReason : undefined;
  }

  /** The model call's error when the run ended on one. */
  get failure(): string | undefined {
    return this.#failure;
  }
}

export interface PiLine {
  type?: string;
  toolCallId?: string;
  toolName?: string;
  args?: unknown;
  isError?: boolean;
  message?: PiMessage;
  messages?: PiMessage[];
}

interface PiMessage {
  role?: string;
  stopReason?: string;
  errorMessage?: string;
}

/** Parses one line of pi's output; anything else (a stray log line) is undefined. */
export function parsePiLine(line: string): PiLine | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as PiLine) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The audit line for a tool call, for the task's log: which tool, when, and a digest of its arguments
 * (never the arguments themselves: they can hold file contents and secrets).
 */
export function auditLine(event: PiLine, startedAt: Map<string, number>, now: number): string | undefined {
  if (event.type === "tool_execution_start" && event.toolCallId !== undefined) {
    startedAt.set(event.toolCallId, now);
    return JSON.stringify({
      type: "ciab.audit",
      event: "tool.call",
      at: new Date(now).toISOString(),
      tool: event.toolName,
      call_id: event.toolCallId,
      args_sha256: createHash("sha256").update(JSON.stringify(event.args ?? null)).digest("hex"),
    });
  }
  if (event.type === "tool_execution_end" && event.toolCallId !== undefined) {
    const started = startedAt.get(event.toolCallId);
    startedAt.delete(event.toolCallId);
    return JSON.stringify({
      type: "ciab.audit",
      event: "tool.result",
      at: new Date(now).toISOString(),
      tool: event.toolName,
      call_id: event.toolCallId,
      is_error: event.isError === true,
      duration_ms: started === undefined ? null : now - started,
    });
  }
  return undefined;
}
