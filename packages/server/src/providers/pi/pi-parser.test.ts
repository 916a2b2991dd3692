import { readFileSync } from "node:fs";
import type { NewSessionEvent } from "@ciab/protocol";
import { describe, expect, it } from "vitest";
import { PiParser } from "./pi-parser.js";

/** Recorded from pi 0.73.1 (`--mode json -p --no-session`) against the scripted model server. */
function fixtureLines(fixture: string): string[] {
  return readFileSync(new URL(`./__fixtures__/${fixture}`, import.meta.url), "utf8").split("\n");
}

function replay(lines: string[]): NewSessionEvent[] {
  const parser = new PiParser();
  return [...lines.flatMap((line) => parser.parseLine(line)), ...parser.finish()];
}

const deltas = ["agent.message.delta", "agent.message.delta", "agent.message.delta"];

describe("PiParser", () => {
  it("reads a run that writes a file with write", () => {
    const events = replay(fixtureLines("headless-write.jsonl"));
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
    expect(events.find((event) => event.type === "tool.call")!.data).toMatchObject({ call_id: "toolu_scripted_2", name: "write", input: { content: "hello from pi" } });
    expect(events.find((event) => event.type === "tool.result")!.data).toMatchObject({ name: "write", output: expect.stringContaining("Successfully wrote 13 bytes"), is_error: false });
    expect(events.find((event) => event.type === "file.changed")!.data).toEqual({ path: expect.stringMatching(/\/work\/hello\.txt$/), action: "create" });
    expect(events.find((event) => event.type === "agent.result")!.data).toEqual({ text: "done: hello.txt written", is_error: false, num_turns: 2 });
    expect(events.find((event) => event.type === "usage.reported")!.data).toEqual({
      input_tokens: 240,
      output_tokens: 60,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0,
      model: "claude-sonnet-4-5",
      source: "agent",
    });
  });

  it("emits only the delta of each message_update, never the repeated partial message", () => {
    const lines = fixtureLines("headless-write.jsonl");
    const updates = lines.filter((line) => line.includes('"type":"message_update"'));
    const parser = new PiParser();
    const events = updates.flatMap((line) => parser.parseLine(line));
    expect(events.map((event) => event.type)).toEqual([...deltas, ...deltas]);
    expect(events.map((event) => event.data.text).join("")).toBe("I will create hello.txt.done: hello.txt written");
    for (const event of events) expect(event).not.toHaveProperty("raw");
  });

  it("reports a bash call without a file change", () => {
    const events = replay(fixtureLines("headless-bash.jsonl"));
    expect(events.find((event) => event.type === "tool.call")!.data).toMatchObject({ name: "bash", input: { command: expect.stringContaining("hello.txt") } });
    expect(events.find((event) => event.type === "tool.result")!.data).toMatchObject({ name: "bash", output: "(no output)", is_error: false });
    expect(events.some((event) => event.type === "file.changed")).toBe(false);
  });

  it("turns an API error into an error result (pi itself exits 0)", () => {
    const events = replay(fixtureLines("headless-error.jsonl"));
    expect(events.map((event) => event.type)).toEqual(["agent.result", "usage.reported"]);
    expect(events[0]!.data).toEqual({ text: expect.stringContaining("scripted failure: model not allowed"), is_error: true, num_turns: 1 });
  });

  it("gives out a message cut off before message_end when the output ends", () => {
    const lines = fixtureLines("headless-write.jsonl");
    const cut = lines.findIndex((line) => line.includes('"type":"text_end"'));
    const events = replay(lines.slice(0, cut));
    expect(events.at(-1)).toEqual({ type: "agent.message", data: { text: "I will create hello.txt." } });
  });

  it("turns what it does not know into agent.output and never throws", () => {
    const parser = new PiParser();
    for (const odd of ["not json", "42", "[]", '{"type":"auto_retry_start","attempt":1}', '{"type":"message_end"}', '{"type":"tool_execution_end"}', '{"type":"message_update"}']) {
      expect(parser.parseLine(odd)).toEqual([{ type: "agent.output", data: { line: odd } }]);
    }
    expect(parser.parseLine('{"type":"message_end","message":{"role":"assistant","content":[null,{"type":"toolCall"}],"usage":{"input":"x"}}}')).toEqual([]);
  });
});
