/** One message of a `text/event-stream`. */
export interface ServerSentEvent {
  /** `message` when the server named none. */
  event: string;
  /** The `data:` lines joined with newlines. */
  data: string;
  id: string | undefined;
}

/**
 * Parses a `text/event-stream` as it arrives, following the WHATWG rules: lines end in CRLF, LF or CR
 * (split anywhere between chunks, even inside a UTF-8 sequence), `:` starts a comment, several `data:`
 * lines join with newlines, a blank line dispatches, and an unfinished message at the end is dropped.
 */
export async function* parseServerSentEvents(
  source: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const decoder = new TextDecoder();
  const parser = new EventStreamParser();
  for await (const chunk of source) {
    const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    yield* parser.push(text);
  }
  yield* parser.push(decoder.decode(), true);
}

class EventStreamParser {
  #buffer = "";
  #pieces: string[] = [];
  #data: string[] = [];
  #event = "";
  #lastID: string | undefined;

  /** Feeds text; returns the events it completed. */
  push(text: string, end = false): ServerSentEvent[] {
    // A long line arrives in many chunks: they are kept apart until its end comes, then joined and
    // searched once from where the earlier search stopped (the buffer holds no line end but a last CR).
    if (!end && !this.#buffer.endsWith("\r") && !/[\r\n]/.test(text)) {
      this.#pieces.push(text);
      return [];
    }
    if (this.#pieces.length > 0) {
      this.#buffer += this.#pieces.join("");
      this.#pieces = [];
    }
    const searchFrom = Math.max(0, this.#buffer.length - 1);
    this.#buffer += text;
    const events: ServerSentEvent[] = [];
    // The regex engine finds line ends far faster than a loop over characters on busy streams.
    const lineEnds = /\r\n|\r|\n/g;
    lineEnds.lastIndex = searchFrom;
    let start = 0;
    for (let match = lineEnds.exec(this.#buffer); match !== null; match = lineEnds.exec(this.#buffer)) {
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (match[0] === "\r" && match.index + 1 === this.#buffer.length && !end) break;
      const event = this.#line(this.#buffer.slice(start, match.index));
      start = match.index + match[0].length;
      if (event) events.push(event);
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  #line(line: string): ServerSentEvent | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id" && !value.includes("\0")) this.#lastID = value;
    return undefined;
  }

  #dispatch(): ServerSentEvent | undefined {
    const event = this.#event === "" ? "message" : this.#event;
    const data = this.#data;
    this.#event = "";
    this.#data = [];
    if (data.length === 0) return undefined;
    return { event, data: data.join("\n"), id: this.#lastID };
  }
}
