import type { CreateSessionRequest, Session, SessionEvent, SessionPort } from "@ciab/protocol";
import type { HttpClient } from "./http.js";
import { parseServerSentEvents } from "./sse.js";
import { ProcessAttachment, type AttachOptions } from "./process-attachment.js";

export interface FollowEventsOptions {
  /** Events with seq > after; 0 (all) by default. */
  after?: number;
  signal?: AbortSignal;
  /** How often to reconnect after a dropped stream before giving up; the stream resumes where it stopped. */
  reconnects?: number;
}

const finalStates = new Set(["completed", "failed", "cancelled"]);

/** `ciab.sessions`: agent runs and their event streams. */
export class Sessions {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  create(request: CreateSessionRequest, options: { signal?: AbortSignal } = {}): Promise<Session> {
    return this.#http.json<Session>("POST", "/api/v1/sessions", { json: request, signal: options.signal });
  }

  async list(options: { state?: Session["state"]; limit?: number; signal?: AbortSignal } = {}): Promise<Session[]> {
    const body = await this.#http.json<{ sessions: Session[] }>("GET", "/api/v1/sessions", {
      query: { state: options.state, limit: options.limit },
      signal: options.signal,
    });
    return body.sessions;
  }

  get(id: string, options: { signal?: AbortSignal } = {}): Promise<Session> {
    return this.#http.json<Session>("GET", `/api/v1/sessions/${encodeURIComponent(id)}`, options);
  }

  /**
   * Asks the session to stop. With `waitMs`, answers once it has ended (a cancelled session's exit code is
   * 130) or that time has passed, whichever is first; the answer's `state` says which.
   */
  async cancel(id: string, options: { signal?: AbortSignal; waitMs?: number } = {}): Promise<Session> {
    let session = await this.#http.json<Session>("POST", `/api/v1/sessions/${encodeURIComponent(id)}/cancel`, { signal: options.signal });
    const deadline = Date.now() + (options.waitMs ?? 0);
    while (!finalStates.has(session.state) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      session = await this.get(id, { ...(options.signal && { signal: options.signal }) });
    }
    return session;
  }

  /** Ports listening in the session's sandbox, each with a freshly signed preview URL (`[previews] token_ttl_seconds`). */
  async ports(id: string, options: { signal?: AbortSignal } = {}): Promise<SessionPort[]> {
    return (await this.#http.json<{ ports: SessionPort[] }>("GET", `/api/v1/sessions/${encodeURIComponent(id)}/ports`, options)).ports;
  }

  /** The terminal of an interactive session's agent; closing the attachment detaches and leaves it running. */
  attach(id: string, options: AttachOptions = {}): Promise<ProcessAttachment> {
    return ProcessAttachment.open(this.#http, `/api/v1/sessions/${encodeURIComponent(id)}/attach`, options);
  }

  /** One page of stored events (no waiting). */
  async events(id: string, options: { after?: number; limit?: number; signal?: AbortSignal } = {}): Promise<SessionEvent[]> {
    const body = await this.#http.json<{ events: SessionEvent[] }>("GET", `/api/v1/sessions/${encodeURIComponent(id)}/events`, {
      query: { after: options.after, limit: options.limit },
      signal: options.signal,
    });
    return body.events;
  }

  /**
   * Every event from `after` on, live, until the session ends. A dropped connection is resumed from the
   * last event seen (`Last-Event-ID`), so nothing is missed or repeated.
   */
  async *follow(id: string, options: FollowEventsOptions = {}): AsyncGenerator<SessionEvent, void, undefined> {
    let last = options.after ?? 0;
    let reconnects = options.reconnects ?? 5;
    for (;;) {
      try {
        const response = await this.#http.send("GET", `/api/v1/sessions/${encodeURIComponent(id)}/events`, {
          accept: "text/event-stream",
          headers: last > 0 ? { "last-event-id": String(last) } : {},
          signal: options.signal,
        });
        if (response.body === null) return;
        for await (const message of parseServerSentEvents(response.body)) {
          const event = JSON.parse(message.data) as SessionEvent;
          if (event.seq <= last) continue;
          last = event.seq;
          yield event;
          if (event.type === "session.state.changed" && finalStates.has(String(event.data.state))) return;
        }
        // The server ends the stream only after the final event; anything else was a drop.
        if (finalStates.has((await this.get(id, options)).state) && (await this.events(id, { after: last, limit: 1 })).length === 0) return;
      } catch (error) {
        if (options.signal?.aborted || reconnects <= 0) throw error;
      }
      reconnects -= 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
