import { readFileSync } from "node:fs";
import type { NewSessionEvent } from "@ciab/protocol";
import { describe, expect, it } from "vitest";
import { createGeminiCLIParser } from "./gemini-cli-parser.js";

function parseFixture(name: string): NewSessionEvent[] {
  const parser = createGeminiCLIParser();
  const lines = readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), "utf8").split("\n").filter(Boolean);
  return [...lines.flatMap((line) => parser.parseLine(line)), ...parser.finish()];
}

const summary = (events: NewSessionEvent[]) => events.map((event) => [event.type, event.data]);

describe("gemini-cli parser", () => {
  it("reads deltas, a write_file call, usage and the result", () => {
    const events = parseFixture("gemini-write-file.jsonl");
    expect(events.map((event) => event.type)).toEqual([
      "agent.message.delta",
      "agent.message",
      "tool.call",
      "tool.result",
      "agent.message.delta",
      "agent.message.delta",
      "agent.message",
      "agent.result",
      "usage.reported",
    ]);
    expect(events[1]!.data).toEqual({ text: "Let me write the file." });
    expect(events[2]!.data).toMatchObject({ name: "write_file", input: { file_path: "hello.txt", content: "hello\n" } });
    expect(events[3]!.data).toMatchObject({ call_id: events[2]!.data.call_id, name: "write_file", output: "", is_error: false });
    expect(events[6]!.data).toEqual({ text: "I created hello.txt." });
    expect(events[8]!.data).toEqual({
      input_tokens: 240,
      output_tokens: 24,
      cache_read_tokens: 0,
      cost_usd: 0,
      model: "gemini-2.5-flash",
      source: "agent",
    });
    expect(events[7]!.data).toEqual({ text: "I created hello.txt.", is_error: false });
  });

  it("reads a shell call's output and cached tokens", () => {
    const events = parseFixture("gemini-shell-tool.jsonl");
    expect(events.find((event) => event.type === "tool.result")!.data).toMatchObject({ name: "run_shell_command", output: "wrote" });
    expect(events.find((event) => event.type === "usage.reported")!.data).toMatchObject({ input_tokens: 200, cache_read_tokens: 40 });
  });

  it.each(["gemini-api-error.jsonl", "gemini-model-server-404.jsonl"])("turns an error result into an error (%s)", (name) => {
    const events = parseFixture(name);
    expect(events.map((event) => event.type)).toEqual(["session.error", "agent.result", "usage.reported"]);
    expect(events[1]!.data).toMatchObject({ is_error: true, text: expect.stringContaining("API Error") });
  });

  it("reports warnings, a complete message, and a missing result", () => {
    const parser = createGeminiCLIParser();
    const lines = [
      { type: "init", session_id: "s", model: "m" },
      { type: "error", severity: "warning", message: "Loop detected" },
      { type: "message", role: "assistant", content: "whole" },
      { type: "message", role: "assistant", content: "half", delta: true },
    ];
    expect(summary(lines.flatMap((line) => parser.parseLine(JSON.stringify(line))))).toEqual([
      ["session.error", { code: "agent_warning", message: "Loop detected" }],
      ["agent.message", { text: "whole" }],
      ["agent.message.delta", { text: "half" }],
    ]);
    expect(summary(parser.finish())).toEqual([
      ["agent.message", { text: "half" }],
      ["agent.result", { text: "half", is_error: true }],
    ]);
  });

  it("passes unknown and malformed lines on as agent.output", () => {
    const parser = createGeminiCLIParser();
    for (const line of ["YOLO mode is enabled.", "{", "null", JSON.stringify({ type: "message", role: "assistant", content: 3 })]) {
      expect(parser.parseLine(line)).toEqual([{ type: "agent.output", data: { line }, raw: line }]);
    }
    expect(parser.finish()).toEqual([]);
  });
});
