import { readFileSync } from "node:fs";
import type { NewSessionEvent } from "@ciab/protocol";
import { describe, expect, it } from "vitest";
import { createCodexParser } from "./codex-parser.js";

function parseFixture(name: string): NewSessionEvent[] {
  const parser = createCodexParser();
  const lines = readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), "utf8").split("\n").filter(Boolean);
  return [...lines.flatMap((line) => parser.parseLine(line)), ...parser.finish()];
}

const summary = (events: NewSessionEvent[]) => events.map((event) => [event.type, event.data]);

describe("codex parser", () => {
  it("reads a shell tool call, messages, usage and the final result", () => {
    const events = parseFixture("codex-hello-file.jsonl");
    expect(events.map((event) => event.type)).toEqual([
      "agent.message",
      "tool.call",
      "tool.result",
      "agent.message",
      "agent.result",
      "usage.reported",
    ]);
    const call = events[1]!.data;
    expect(call).toMatchObject({ call_id: "item_1", name: "bash" });
    expect((call.input as { command: string }).command).toContain("hello.txt");
    expect(events[2]!.data).toMatchObject({ call_id: "item_1", output: "", is_error: false });
    expect(events[5]!.data).toEqual({
      input_tokens: 240,
      output_tokens: 60,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0,
      source: "agent",
    });
    expect(events[4]!.data).toEqual({ text: "done: hello.txt written", is_error: false });
    expect(events.every((event) => event.raw !== undefined)).toBe(true);
  });

  it("reports apply_patch changes as file.changed", () => {
    const events = parseFixture("codex-apply-patch.jsonl");
    const changes = events.filter((event) => event.type === "file.changed");
    expect(changes).toHaveLength(1);
    expect(changes[0]!.data).toMatchObject({ action: "create" });
    expect(changes[0]!.data.path).toMatch(/\/notes\.md$/);
  });

  it("turns reconnects and a failed turn into errors and an error result", () => {
    expect(summary(parseFixture("codex-upstream-error.jsonl"))).toEqual([
      ["session.error", { code: "agent_reconnecting", message: expect.stringMatching(/^Reconnecting\.\.\. 1\/1/) }],
      ["session.error", { code: "agent_error", message: expect.any(String) }],
      ["session.error", { code: "agent_error", message: expect.any(String) }],
      ["agent.result", { text: expect.any(String), is_error: true }],
    ]);
  });

  it("maps failed commands, reasoning and error items", () => {
    const parser = createCodexParser();
    const lines = [
      { type: "turn.started" },
      { type: "item.completed", item: { id: "i0", type: "reasoning", text: "thinking" } },
      { type: "item.completed", item: { id: "i1", type: "command_execution", command: "false", aggregated_output: "", exit_code: 1, status: "failed" } },
      { type: "item.completed", item: { id: "i2", type: "error", message: "bad thing" } },
    ];
    expect(summary(lines.flatMap((line) => parser.parseLine(JSON.stringify(line))))).toEqual([
      ["agent.thinking", { text: "thinking" }],
      ["tool.call", { call_id: "i1", name: "bash", input: { command: "false" } }],
      ["tool.result", { call_id: "i1", name: "bash", output: "", is_error: true }],
      ["session.error", { code: "agent_error", message: "bad thing" }],
    ]);
    expect(summary(parser.finish())).toEqual([
      ["agent.result", { text: "codex exited before its turn completed", is_error: true }],
    ]);
  });

  it("passes unknown, malformed and oddly shaped lines on as agent.output", () => {
    const parser = createCodexParser();
    const lines = [
      "Reading additional input from stdin...",
      "{not json",
      JSON.stringify({ type: "item.completed", item: { id: "t", type: "todo_list", items: [] } }),
      JSON.stringify({ type: "item.completed", item: { id: "f", type: "file_change", status: "completed", changes: "oops" } }),
      JSON.stringify([1, 2]),
    ];
    for (const line of lines) expect(parser.parseLine(line)).toEqual([{ type: "agent.output", data: { line }, raw: line }]);
    expect(parser.finish()).toEqual([]);
  });
});
