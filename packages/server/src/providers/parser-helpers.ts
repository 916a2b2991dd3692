import type { NewSessionEvent } from "@ciab/protocol";

/** Small readers shared by the agents' output parsers, which all walk untrusted JSON. */
export type JSONObject = Record<string, unknown>;

export function isObject(value: unknown): value is JSONObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A finite number, or 0: token counts missing from a line count as none. */
export function numberOr0(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** The text of a message's content, whether a string or a list of parts with `text`. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (isObject(part) && typeof part.text === "string" ? part.text : ""))
    .filter((text) => text !== "")
    .join("\n");
}

/** A line no parser understood: kept as it is, never dropped. */
export function unknownLine(line: string): NewSessionEvent {
  return { type: "agent.output", data: { line } };
}
