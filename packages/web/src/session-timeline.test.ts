import { describe, expect, test } from "vitest";
import type { SessionEvent } from "@ciab/protocol";
import { addEvent, emptyTimeline, timelineLimits, type Timeline } from "./session-timeline.js";

let seq = 0;
function event(type: string, data: Record<string, unknown>): SessionEvent {
  seq += 1;
  return { seq, session_id: "ses_1", type: type as SessionEvent["type"], data, created_at: "2026-01-01T00:00:00Z" };
}

function replay(events: SessionEvent[]): Timeline {
  return events.reduce(addEvent, emptyTimeline);
}

describe("a session's timeline", () => {
  test("message pieces and one stream's output join; the whole message replaces its pieces", () => {
    const timeline = replay([
      event("session.state.changed", { state: "running" }),
      event("agent.message.delta", { text: "Hel" }),
      event("agent.message.delta", { text: "lo" }),
      event("shell.output", { stream: "stdout", data: btoa("a\n") }),
      event("shell.output", { stream: "stdout", data: btoa("b\n") }),
      event("shell.output", { stream: "stderr", data: btoa("oops") }),
      event("agent.message.delta", { text: "Bye" }),
      event("agent.message", { text: "Bye." }),
      event("tool.call", { call_id: "c1", name: "bash", input: { command: "ls" } }),
      event("usage.reported", { input_tokens: 10, output_tokens: 5, cost_usd: 0.25 }),
      event("usage.reported", { input_tokens: 1, output_tokens: 1, cost_usd: "free" }),
      event("session.state.changed", { state: "completed", exit_code: 0 }),
    ]);
    expect(timeline.items.map((item) => item.kind)).toEqual(["state", "message", "output", "output", "message", "tool-call", "usage", "usage", "state"]);
    expect(timeline.items[1]).toMatchObject({ text: "Hello", streaming: true });
    expect(timeline.items[2]).toMatchObject({ stream: "stdout", text: "a\nb\n" });
    expect(timeline.items[4]).toMatchObject({ text: "Bye.", streaming: false });
    expect(timeline.items[5]).toMatchObject({ name: "bash", input: '{"command":"ls"}' });
    expect(timeline).toMatchObject({ state: "completed", exitCode: 0, modelCostUSD: 0.25 });
  });

  test("a flood stays within the page's bounds", () => {
    const huge = "x".repeat(timelineLimits.maxTextChars * 2);
    const events = [event("agent.message", { text: huge })];
    for (let index = 0; index < timelineLimits.maxItems + 10; index += 1) events.push(event("tool.call", { name: "t", input: index }));
    const timeline = replay(events);
    expect(timeline.items).toHaveLength(timelineLimits.maxItems);
    expect(timeline.dropped).toBe(11);
    expect(replay([event("agent.message", { text: huge })]).items[0]).toMatchObject({ text: expect.stringMatching(/^…x+$/) });
    expect((replay([event("agent.message", { text: huge })]).items[0] as { text: string }).text.length).toBe(timelineLimits.maxTextChars);
  });
});
