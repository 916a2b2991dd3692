import type { ShellStreamBody } from "@ciab/protocol";
import { toExecEvent, type ExecEvent } from "./exec-events.js";
import type { HttpClient } from "./http.js";
import { parseServerSentEvents } from "./sse.js";

export interface ShellStreamOptions {
  cwd?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface TailOptions {
  /** Resume after this event: the `offset` of the last event you got (sent as `Last-Event-ID`). */
  after?: number;
  signal?: AbortSignal;
}

/** An event of a shell stream, with the byte offset reached: pass it as `after` to resume exactly there. */
export type ShellStreamEvent = ExecEvent & { offset: number };

/** Shell commands of one sandbox that run in the background and can be tailed, and tailed again, from any point. */
export class SandboxShell {
  readonly #http: HttpClient;
  readonly #path: string;

  constructor(http: HttpClient, sandboxPath: string) {
    this.#http = http;
    this.#path = `${sandboxPath}/shell/stream`;
  }

  /** Starts `bash -lc cmd` (sh where bash is missing), stderr folded into stdout. */
  stream(cmd: string, options: ShellStreamOptions = {}): Promise<ShellStreamBody> {
    const { signal, ...rest } = options;
    return this.#http.json<ShellStreamBody>("POST", this.#path, { json: { cmd, ...rest }, signal });
  }

  /** Its output from the start (or after `after`), live until it exits. */
  async *tail(streamID: string, options: TailOptions = {}): AsyncGenerator<ShellStreamEvent, void, undefined> {
    const response = await this.#http.send("GET", `${this.#path}/${encodeURIComponent(streamID)}`, {
      signal: options.signal,
      ...(options.after !== undefined && { headers: { "last-event-id": String(options.after) } }),
    });
    if (response.body === null) return;
    for await (const message of parseServerSentEvents(response.body)) {
      const event = toExecEvent(response, message);
      if (event !== undefined) yield { ...event, offset: Number(message.id ?? 0) };
    }
  }
}
