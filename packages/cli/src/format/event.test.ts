import { describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { formatEvent, sessionExitCode } from "./event.js";

const event = (type: SessionEvent["type"], data: Record<string, unknown>): SessionEvent => ({
  seq: 1,
  session_id: "ses_x",
  type,
  data,
  created_at: "2026-11-23T00:00:00.000Z",
});

describe("formatEvent", () => {
  test.each([
    [event("session.state.changed", { state: "starting", message: "creating sandbox" }), "· creating sandbox"],
    [event("session.state.changed", { state: "completed", exit_code: 0 }), "✓ completed (exit 0)"],
    [event("session.state.changed", { state: "failed", exit_code: 2, message: "the agent exited with code 2" }), "✗ failed (exit 2): the agent exited with code 2"],
    [event("tool.call", { name: "Bash", input: { command: "ls  -la\n/workspace" } }), "→ Bash ls -la /workspace"],
    [event("tool.call", { name: "Write", input: { file_path: "/workspace/hello.txt", content: "x" } }), "→ Write /workspace/hello.txt"],
    [event("tool.result", { output: "ok", is_error: false }), "← ok"],
    [event("session.error", { code: "agent_retrying", message: "retrying the model API (attempt 2 of 10) in 1.5 s: overloaded_error, HTTP 529" }), "↻ retrying the model API (attempt 2 of 10) in 1.5 s: overloaded_error, HTTP 529"],
    [event("session.error", { code: "agent_reconnecting", message: "Reconnecting... 1/5 (stream\ndisconnected)" }), "↻ Reconnecting... 1/5 (stream disconnected)"],
    [event("file.changed", { path: "hello.txt", action: "create" }), "✎ create hello.txt"],
    [event("agent.result", { text: "done", is_error: false }), "= done"],
    [event("usage.reported", { input_tokens: 120, output_tokens: 30, cost_usd: 0.00081, source: "gateway" }), "$ 120 in / 30 out tokens, $0.0008"],
    [event("session.error", { code: "agent_unreachable", message: "gone" }), "✗ gone (agent_unreachable)"],
    [event("agent.message.delta", { text: "par" }), ""],
  ])("%#", (input, expected) => {
    expect(formatEvent(input)).toBe(expected);
  });

  test("long tool output is cut to one line", () => {
    expect(formatEvent(event("tool.result", { output: "a\n".repeat(500) })).length).toBeLessThan(170);
  });
});

describe("sessionExitCode", () => {
  test.each([
    [{ state: "completed", exit_code: 0 }, 0],
    [{ state: "failed", exit_code: 3 }, 3],
    [{ state: "failed", exit_code: null }, 1],
    [{ state: "cancelled", exit_code: 143 }, 130],
  ])("%o → %i", (session, code) => expect(sessionExitCode(session)).toBe(code));
});
