import { CiabError, type SessionEvent } from "@ciab/protocol";
import type { Item } from "./dynamodb-table.js";

/** Bytes of an event's payload kept in one item; DynamoDB refuses items over 400 KB. */
const partBytes = 300_000;
/** The largest event payload stored (in parts); a bigger one is refused, never cut. */
export const maxEventBytes = 8 * 1024 * 1024;

export const eventSortKey = (seq: number) => `e#${String(seq).padStart(12, "0")}`;
export const partPrefix = (seq: number) => `p#${String(seq).padStart(12, "0")}#`;

/**
 * An event's items: the event with its payload (`data` and `raw`) as JSON text in `body`, or, when that text
 * is over `partBytes`, the event with `parts: n` and the text cut into n part items.
 */
export function eventItems(event: SessionEvent): Item[] {
  const { data, raw, ...fields } = event;
  const body = JSON.stringify(raw === undefined ? { data } : { data, raw });
  const bytes = Buffer.from(body, "utf8");
  if (bytes.length > maxEventBytes) {
    throw new CiabError("payload_too_large", `event ${event.seq} of session ${event.session_id} holds ${bytes.length} bytes; at most ${maxEventBytes} are stored`, {
      context: { sessionID: event.session_id, seq: event.seq, bytes: bytes.length, maxBytes: maxEventBytes },
    });
  }
  const base = { pk: `events#${event.session_id}`, itemType: "event", ...fields };
  if (bytes.length <= partBytes) return [{ ...base, sk: eventSortKey(event.seq), body }];
  // Cut on bytes, stored as binary, so a cut inside a multi-byte character cannot spoil the text.
  const parts: Item[] = [];
  for (let offset = 0, index = 0; offset < bytes.length; offset += partBytes, index++) {
    parts.push({ pk: base.pk, sk: `${partPrefix(event.seq)}${String(index).padStart(4, "0")}`, itemType: "event-part", chunk: bytes.subarray(offset, offset + partBytes) });
  }
  return [{ ...base, sk: eventSortKey(event.seq), parts: parts.length }, ...parts];
}

export function eventFromItems(item: Item, parts: Item[]): SessionEvent {
  const { pk: _pk, sk: _sk, itemType: _type, body, parts: count, ...fields } = item;
  let text: string;
  if (count === undefined) {
    text = String(body);
  } else {
    if (parts.length !== Number(count)) {
      throw new CiabError("internal", `event ${String(fields.seq)} has ${parts.length} of its ${String(count)} parts`);
    }
    text = Buffer.concat(parts.map((part) => Buffer.from(part.chunk as Uint8Array))).toString("utf8");
  }
  const payload = JSON.parse(text) as { data: Record<string, unknown>; raw?: string };
  const event = { ...fields, data: payload.data } as SessionEvent;
  if (payload.raw !== undefined) event.raw = payload.raw;
  return event;
}
