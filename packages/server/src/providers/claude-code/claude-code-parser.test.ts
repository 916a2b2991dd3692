import { readFileSync } from "node:fs";
import type { NewSessionEvent } from "@ciab/protocol";
import { describe, expect, it } from "vitest";
import { ClaudeCodeParser } from "./claude-code-parser.js";

/** Recorded from claude 2.1.197 (`-p --output-format stream-json --verbose --include-partial-messages`) against the scripted model server. */
function replay(fixture: string): NewSessionEvent[] {
  const lines = readFileSync(new URL(`./__fixtures__/${fixture}`, import.meta.url), "utf8").split("\n");
  const parser = new ClaudeCodeParser();
  return [...lines.flatMap((line) => parser.parseLine(line)), ...parser.finish()];
}

const deltas = ["agent.message.delta", "agent.message.delta", "agent.message.delta"];

describe("ClaudeCodeParser", () => {
  it("reads a run that writes a file with Write", () => {
    const events = replay("headless-write.jsonl");
    expect(events.map((event) => event.type)).toEqual([
      ...deltas,
      "agent.message",
      "tool.call",
      "tool.result",
      "file.changed",
      ...deltas,
      "agent.message",
      "agent.result",
      "usage.reported",
    ]);
    const call = events.find((event) => event.type === "tool.call")!;
    expect(call.data).toMatchObject({ call_id: "toolu_scripted_2", name: "Write", input: { content: "hello from claude-code" } });
    expect(events.find((event) => event.type === "tool.result")!.data).toMatchObject({ call_id: "toolu_scripted_2", name: "Write", is_error: false });
    expect(events.find((event) => event.type === "file.changed")!.data).toEqual({ path: expect.stringMatching(/\/work\/hello\.txt$/), action: "create" });
    expect(events.filter((event) => event.type === "agent.message.delta").map((event) => event.data.text).join("")).toBe(
      "I will create hello.txt.done: hello.txt written",
    );
    expect(events.find((event) => event.type === "agent.result")!.data).toEqual({ text: "done: hello.txt written", is_error: false, num_turns: 2 });
    expect(events.find((event) => event.type === "usage.reported")!.data).toEqual({
      input_tokens: 240,
      output_tokens: 60,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0.00162,
      model: "claude-sonnet-4-5",
      source: "agent",
    });
  });

  it("reports a Bash call without a file change", () => {
    const events = replay("headless-bash.jsonl");
    expect(events.find((event) => event.type === "tool.call")!.data).toMatchObject({ name: "Bash", input: { command: expect.stringContaining("hello.txt") } });
    expect(events.find((event) => event.type === "tool.result")!.data).toMatchObject({ name: "Bash", output: "(Bash completed with no output)", is_error: false });
    expect(events.some((event) => event.type === "file.changed")).toBe(false);
  });

  it("marks an API error as an error result", () => {
    const events = replay("headless-error.jsonl");
    expect(events.map((event) => event.type)).toEqual(["agent.message", "agent.result", "usage.reported"]);
    expect(events[1]!.data).toEqual({ text: "API Error: 400 scripted failure: model not allowed", is_error: true, num_turns: 1 });
    expect(events[2]!.data).toMatchObject({ input_tokens: 0, output_tokens: 0, cost_usd: 0, model: "claude-sonnet-4-5" });
  });

  it("keeps the raw line on events and turns what it does not know into agent.output", () => {
    const parser = new ClaudeCodeParser();
    const line = '{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}]}}';
    expect(parser.parseLine(line)).toEqual([{ type: "agent.message", data: { text: "hi" }, raw: line }]);
    for (const odd of ["not json", "null", "[1,2]", '{"type":"mystery"}', '{"type":"system","subtype":"permission_denied"}', '{"type":"assistant"}', '{"type":"stream_event","event":7}']) {
      expect(parser.parseLine(odd)).toEqual([{ type: "agent.output", data: { line: odd } }]);
    }
    expect(parser.parseLine("")).toEqual([]);
    expect(parser.parseLine('{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":"a"},{"type":"image"}],"is_error":true}]}}')).toEqual([
      expect.objectContaining({ type: "tool.result", data: { call_id: "x", output: "a", is_error: true } }),
    ]);
  });

  it("turns a retried model call into one line saying which attempt and why", () => {
    const parser = new ClaudeCodeParser();
    const line = JSON.stringify({ type: "system", subtype: "api_retry", attempt: 2, max_retries: 10, retry_delay_ms: 1500, error_status: 529, error: "overloaded_error" });
    expect(parser.parseLine(line)).toEqual([
      { type: "session.error", data: { code: "agent_retrying", message: "retrying the model API (attempt 2 of 10) in 1.5 s: overloaded_error, HTTP 529" } },
    ]);
    expect(parser.parseLine(JSON.stringify({ type: "system", subtype: "api_retry", attempt: "x" }))).toEqual([
      { type: "session.error", data: { code: "agent_retrying", message: "retrying the model API" } },
    ]);
  });
});
