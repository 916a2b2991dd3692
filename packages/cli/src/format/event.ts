import type { SessionEvent } from "@ciab/protocol";

const finalStates = new Set(["completed", "failed", "cancelled"]);

/** One session event as the human lines `ciab run` and `ciab session logs` print; empty when nothing to show. */
export function formatEvent(event: SessionEvent): string {
  const data = event.data;
  switch (event.type) {
    case "session.state.changed": {
      const state = String(data.state);
      if (data.message && !finalStates.has(state)) return `· ${data.message}`;
      if (state === "completed") return `✓ completed${exitSuffix(data)}`;
      if (state === "failed") return `✗ failed${exitSuffix(data)}${data.message ? `: ${data.message}` : ""}`;
      if (state === "cancelled") return "✗ cancelled";
      return `· ${state}`;
    }
    case "agent.message":
      return String(data.text ?? "");
    case "agent.thinking":
      return `(thinking) ${oneLine(String(data.text ?? ""), 200)}`;
    case "tool.call":
      return `→ ${String(data.name)} ${summarizeInput(data.input)}`.trimEnd();
    case "tool.result":
      return `${data.is_error ? "← error" : "←"} ${oneLine(String(data.output ?? ""), 160)}`.trimEnd();
    case "file.changed":
      return `✎ ${String(data.action ?? "changed")} ${String(data.path)}`;
    case "agent.result":
      return data.is_error ? `✗ ${String(data.text ?? "")}` : `= ${String(data.text ?? "")}`;
    case "usage.reported":
      return `$ ${Number(data.input_tokens ?? 0)} in / ${Number(data.output_tokens ?? 0)} out tokens, $${Number(data.cost_usd ?? 0).toFixed(4)}${data.source === "agent" ? " (agent's count)" : ""}`;
    case "session.error":
      // An agent retrying its model call is news, not a failure: one line, and the run goes on.
      if (data.code === "agent_retrying" || data.code === "agent_reconnecting") return `↻ ${oneLine(String(data.message), 200)}`;
      return `✗ ${String(data.message)} (${String(data.code)})`;
    case "agent.output":
      return `  ${String(data.line ?? "")}`;
    case "session.snapshot.created":
      return `· work dir saved as ${String(data.snapshot_id)} (restore it with --restore)`;
    case "session.snapshot.failed":
      return `✗ the work dir was not saved: ${String(data.message)}`;
    case "shell.output":
    case "agent.message.delta":
      return "";
  }
}

function exitSuffix(data: Record<string, unknown>): string {
  return typeof data.exit_code === "number" ? ` (exit ${data.exit_code})` : "";
}

function summarizeInput(input: unknown): string {
  if (input === null || input === undefined) return "";
  if (typeof input !== "object") return oneLine(String(input), 120);
  const record = input as Record<string, unknown>;
  const key = ["command", "cmd", "file_path", "path", "pattern", "url"].find((name) => typeof record[name] === "string");
  return oneLine(key ? String(record[key]) : JSON.stringify(input), 120);
}

function oneLine(text: string, limit: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > limit ? `${line.slice(0, limit - 1)}…` : line;
}

/** The exit code `ciab run` ends with: the agent's own, else 1 for failures and 130 for cancellation. */
export function sessionExitCode(session: { state: string; exit_code: number | null }): number {
  if (session.state === "cancelled") return 130;
  if (session.exit_code !== null) return session.exit_code;
  return session.state === "completed" ? 0 : 1;
}
