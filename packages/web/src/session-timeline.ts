import type { SessionEvent } from "@ciab/protocol";

/** One line of a session's page; texts come from the agent and the sandbox: shown as text, never as markup. */
export type TimelineItem =
  | { kind: "state"; seq: number; state: string; detail: string }
  | { kind: "message"; seq: number; text: string; streaming: boolean }
  | { kind: "thinking"; seq: number; text: string }
  | { kind: "tool-call"; seq: number; name: string; input: string }
  | { kind: "tool-result"; seq: number; output: string; isError: boolean }
  | { kind: "output"; seq: number; stream: string; text: string }
  | { kind: "result"; seq: number; text: string; isError: boolean }
  | { kind: "usage"; seq: number; text: string }
  | { kind: "note"; seq: number; text: string; isError: boolean };

export interface Timeline {
  items: TimelineItem[];
  /** The latest state an event announced. */
  state: string | undefined;
  exitCode: number | undefined;
  /** Model cost the events reported, in USD. */
  modelCostUSD: number;
  /** Items dropped from the front to stay within `maxItems`. */
  dropped: number;
}

export const emptyTimeline: Timeline = { items: [], state: undefined, exitCode: undefined, modelCostUSD: 0, dropped: 0 };

/** Bounds on what a page holds, whatever a session prints. */
export const timelineLimits = { maxItems: 2_000, maxTextChars: 64 * 1024 };

/** The timeline with one more event; consecutive message pieces and output of one stream join one item. */
export function addEvent(timeline: Timeline, event: SessionEvent): Timeline {
  const data = event.data;
  const items = timeline.items.slice();
  const last = items.at(-1);
  let { state, exitCode, modelCostUSD } = timeline;
  const push = (item: TimelineItem) => items.push(item);
  switch (event.type) {
    case "session.state.changed": {
      state = String(data.state);
      if (typeof data.exit_code === "number") exitCode = data.exit_code;
      const detail = [data.exit_code !== undefined && data.exit_code !== null ? `exit ${data.exit_code}` : "", text(data.reason), text(data.message)].filter(Boolean).join(" · ");
      push({ kind: "state", seq: event.seq, state, detail });
      break;
    }
    case "agent.message.delta":
      if (last?.kind === "message" && last.streaming) items[items.length - 1] = { ...last, text: bounded(last.text + text(data.text)) };
      else push({ kind: "message", seq: event.seq, text: bounded(text(data.text)), streaming: true });
      break;
    case "agent.message":
      // The whole message follows its pieces: it replaces them.
      if (last?.kind === "message" && last.streaming) items.pop();
      push({ kind: "message", seq: event.seq, text: bounded(text(data.text)), streaming: false });
      break;
    case "agent.thinking":
      push({ kind: "thinking", seq: event.seq, text: bounded(text(data.text)) });
      break;
    case "tool.call":
      push({ kind: "tool-call", seq: event.seq, name: text(data.name) || "tool", input: bounded(compact(data.input)) });
      break;
    case "tool.result":
      push({ kind: "tool-result", seq: event.seq, output: bounded(compact(data.output)), isError: data.is_error === true });
      break;
    case "shell.output": {
      const stream = data.stream === "stderr" ? "stderr" : "stdout";
      const chunk = decodeBase64(text(data.data));
      if (last?.kind === "output" && last.stream === stream) items[items.length - 1] = { ...last, text: bounded(last.text + chunk) };
      else push({ kind: "output", seq: event.seq, stream, text: bounded(chunk) });
      break;
    }
    case "agent.output":
      push({ kind: "output", seq: event.seq, stream: "agent", text: bounded(text(data.line)) });
      break;
    case "agent.result":
      push({ kind: "result", seq: event.seq, text: bounded(text(data.text)), isError: data.is_error === true });
      break;
    case "usage.reported": {
      const cost = typeof data.cost_usd === "number" && Number.isFinite(data.cost_usd) ? data.cost_usd : 0;
      modelCostUSD += cost;
      push({ kind: "usage", seq: event.seq, text: `${number(data.input_tokens)} in · ${number(data.output_tokens)} out · $${cost.toFixed(4)}` });
      break;
    }
    case "file.changed":
      push({ kind: "note", seq: event.seq, text: `${text(data.action)} ${text(data.path)}`, isError: false });
      break;
    case "session.error":
    case "session.snapshot.failed":
      push({ kind: "note", seq: event.seq, text: `${text(data.code)}: ${bounded(text(data.message))}`, isError: true });
      break;
    case "session.snapshot.created":
      push({ kind: "note", seq: event.seq, text: `snapshot ${text(data.snapshot_id)} (${text(data.reason)})`, isError: false });
      break;
    default:
      push({ kind: "note", seq: event.seq, text: `${event.type} ${bounded(compact(data))}`, isError: false });
  }
  const excess = Math.max(0, items.length - timelineLimits.maxItems);
  return { items: excess > 0 ? items.slice(excess) : items, state, exitCode, modelCostUSD, dropped: timeline.dropped + excess };
}

function text(value: unknown): string {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

function number(value: unknown): string {
  return typeof value === "number" && Number.isFinite(value) ? String(value) : "?";
}

function compact(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return String(value);
  }
}

/** The end of a long text: the latest output is what one watches. */
function bounded(value: string): string {
  const max = timelineLimits.maxTextChars;
  return value.length <= max ? value : `…${value.slice(value.length - max + 1)}`;
}

const decoder = new TextDecoder("utf-8", { fatal: false });

function decodeBase64(value: string): string {
  try {
    return decoder.decode(Uint8Array.from(atob(value), (character) => character.charCodeAt(0)));
  } catch {
    return "";
  }
}
