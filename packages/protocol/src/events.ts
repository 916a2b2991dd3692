/**
 * Session events: one numbered, append-only stream per session. Names are `<noun>.<action>`, the same in
 * the database, on the wire (the SSE `event:` field) and in the SDK. `raw` keeps the agent's own line.
 */
export const sessionEventTypes = [
  /** { state, exit_code?, reason?, message? } — every state change, the first one included. */
  "session.state.changed",
  /** { text } — a complete assistant message. */
  "agent.message",
  /** { text } — a piece of an assistant message as it streams. */
  "agent.message.delta",
  /** { text } — reasoning the agent chose to show. */
  "agent.thinking",
  /** { call_id, name, input } — the agent asks to run a tool (bash, edit, write…). */
  "tool.call",
  /** { call_id, name?, output, is_error } — what the tool answered. */
  "tool.result",
  /** { path, action: "create" | "edit" | "delete" } — a file the agent changed, when its output says so. */
  "file.changed",
  /** { text, is_error, num_turns? } — the agent's final answer in a headless run. */
  "agent.result",
  /** { input_tokens, output_tokens, cache_read_tokens?, cache_write_tokens?, cost_usd, model?, source: "gateway" | "agent" } */
  "usage.reported",
  /** { stream: "stdout" | "stderr", data (base64) } — bytes from a shell session or the agent's stderr. */
  "shell.output",
  /** { line } — an agent output line the parser did not understand; never dropped. */
  "agent.output",
  /** { code, message } */
  "session.error",
  /** { snapshot_id, label, reason } — the work dir snapshotted as the session's sandbox ended (`snapshot-on-idle`). */
  "session.snapshot.created",
  /** { code, message, reason } — that snapshot failed; the sandbox ended without it. */
  "session.snapshot.failed",
] as const;

export type SessionEventType = (typeof sessionEventTypes)[number];

export interface SessionEvent {
  /** 1, 2, 3… per session, with no gaps: the SSE id and the `after` cursor. */
  seq: number;
  session_id: string;
  type: SessionEventType;
  data: Record<string, unknown>;
  /** The agent's raw output line this event came from, for debugging. */
  raw?: string;
  created_at: string;
}

/** An event as a parser or a service produces it, before the store numbers it. */
export interface NewSessionEvent {
  type: SessionEventType;
  data: Record<string, unknown>;
  raw?: string;
}
