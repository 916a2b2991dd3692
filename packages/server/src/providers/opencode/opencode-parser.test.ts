import { readFileSync } from "node:fs";
import type { NewSessionEvent } from "@ciab/protocol";
import { describe, expect, it } from "vitest";
import { createOpencodeParser } from "./opencode-parser.js";

function parseFixture(name: string): NewSessionEvent[] {
  const parser = createOpencodeParser();
  const lines = readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), "utf8").split("\n").filter(Boolean);
  return [...lines.flatMap((line) => parser.parseLine(line)), ...parser.finish()];
}

const summary = (events: NewSessionEvent[]) => events.map((event) => [event.type, event.data]);

describe("opencode parser", () => {
  it("reads a write call with its file change, per-step usage and the result", () => {
    const events = parseFixture("opencode-write-file.jsonl");
    expect(events.map((event) => event.type)).toEqual([
      "agent.message",
      "tool.call",
      "tool.result",
      "file.changed",
      "usage.reported",
      "agent.message",
      "agent.result",
      "usage.reported",
    ]);
    expect(events[1]!.data).toMatchObject({ call_id: "call_scripted_3", name: "write", input: { content: "hello from opencode" } });
    expect(events[2]!.data).toEqual({ call_id: "call_scripted_3", name: "write", output: "Wrote file successfully.", is_error: false });
    expect(events[3]!.data).toMatchObject({ action: "create", path: expect.stringMatching(/\/hello\.txt$/) });
    expect(events[4]!.data).toEqual({
      input_tokens: 120,
      output_tokens: 30,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0,
      source: "agent",
    });
    expect(events[6]!.data).toEqual({ text: "done: hello.txt written", is_error: false });
  });

  it("reads a bash call", () => {
    const events = parseFixture("opencode-bash.jsonl");
    expect(events.find((event) => event.type === "tool.call")!.data).toMatchObject({ name: "bash", input: { command: expect.stringContaining("hello.txt") } });
    expect(events.some((event) => event.type === "file.changed")).toBe(false);
    expect(events.at(-2)!.type).toBe("agent.result");
  });

  it("turns an API error into an error and an error result", () => {
    expect(summary(parseFixture("opencode-auth-error.jsonl"))).toEqual([
      ["session.error", { code: "agent_error", message: "invalid session token" }],
      ["agent.result", { text: "invalid session token", is_error: true }],
    ]);
  });

  it("reports a failed tool, reasoning and a run cut short", () => {
    const parser = createOpencodeParser();
    const lines = [
      { type: "step_start", part: { type: "step-start" } },
      { type: "reasoning", part: { type: "reasoning", text: "hmm" } },
      { type: "tool_use", part: { type: "tool", tool: "edit", callID: "c1", state: { status: "error", input: { filePath: "/a" }, error: "no match" } } },
      { type: "text", part: { type: "text", text: "partial" } },
    ];
    expect(summary(lines.flatMap((line) => parser.parseLine(JSON.stringify(line))))).toEqual([
      ["agent.thinking", { text: "hmm" }],
      ["tool.call", { call_id: "c1", name: "edit", input: { filePath: "/a" } }],
      ["tool.result", { call_id: "c1", name: "edit", output: "no match", is_error: true }],
      ["agent.message", { text: "partial" }],
    ]);
    expect(summary(parser.finish())).toEqual([["agent.result", { text: "partial", is_error: true }]]);
  });

  it("passes unknown and malformed lines on as agent.output", () => {
    const parser = createOpencodeParser();
    const lines = ["plain text", "{]", JSON.stringify({ type: "text" }), JSON.stringify({ type: "session", part: {} })];
    for (const line of lines) expect(parser.parseLine(line)).toEqual([{ type: "agent.output", data: { line }, raw: line }]);
    expect(parser.finish()).toEqual([]);
  });
});
