import type { ProcessBody, SignalRequest, TerminalSizeBody } from "@ciab/protocol";
import type { Command } from "./sandbox-commands.js";
import { readExecEvents, type ExecEvent } from "./exec-events.js";
import type { HttpClient } from "./http.js";
import { ProcessAttachment, type AttachOptions } from "./process-attachment.js";

export interface StartProcessOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** A label of yours, returned in listings. */
  tag?: string;
  /** Run on a pseudo-terminal of this size; `attach` to use it interactively. */
  pty?: TerminalSizeBody;
  /** Keep the whole stdout on disk in the sandbox (readable again from any byte offset). */
  persist_output?: boolean;
  signal?: AbortSignal;
}

export type ProcessSignal = SignalRequest["signal"];

/** Background processes of one sandbox, addressed by pid. */
export class SandboxProcesses {
  readonly #http: HttpClient;
  readonly #path: string;

  constructor(http: HttpClient, sandboxPath: string) {
    this.#http = http;
    this.#path = `${sandboxPath}/processes`;
  }

  start(command: Command, options: StartProcessOptions = {}): Promise<ProcessBody> {
    const { signal, ...rest } = options;
    return this.#http.json<ProcessBody>("POST", this.#path, { json: { command, ...rest }, signal });
  }

  async list(options: { signal?: AbortSignal } = {}): Promise<ProcessBody[]> {
    const body = await this.#http.json<{ processes: ProcessBody[] }>("GET", this.#path, options);
    return body.processes;
  }

  get(pid: number, options: { signal?: AbortSignal } = {}): Promise<ProcessBody> {
    return this.#http.json<ProcessBody>("GET", `${this.#path}/${pid}`, options);
  }

  /** Sends a signal; answers with the process as it is afterwards. */
  signal(pid: number, signal: ProcessSignal, options: { signal?: AbortSignal } = {}): Promise<ProcessBody> {
    return this.#http.json<ProcessBody>("POST", `${this.#path}/${pid}/signal`, {
      json: { signal },
      signal: options.signal,
    });
  }

  /**
   * Writes to the process's stdin; with `close`, ends it afterwards so the process reads end of file. Each
   * call is one request, bounded by the server's `stdin_limit_bytes`: send long input in pieces.
   */
  async writeStdin(
    pid: number,
    data: string | Uint8Array,
    options: { signal?: AbortSignal; close?: boolean } = {},
  ): Promise<void> {
    const response = await this.#http.send("POST", `${this.#path}/${pid}/stdin`, {
      query: { close: options.close === true ? true : undefined },
      body: data,
      signal: options.signal,
    });
    await response.body?.cancel();
  }

  /** Ends the process's stdin (end of file for its reader). */
  closeStdin(pid: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.writeStdin(pid, new Uint8Array(0), { ...options, close: true });
  }

  /** Sets the terminal size of a process started with `pty`. */
  resize(pid: number, cols: number, rows: number, options: { signal?: AbortSignal } = {}): Promise<ProcessBody> {
    return this.#http.json<ProcessBody>("POST", `${this.#path}/${pid}/resize`, {
      json: { cols, rows },
      signal: options.signal,
    });
  }

  /**
   * Attaches over WebSocket: stdin, output (what was kept first), resize and the exit. Closing the
   * attachment detaches; the process runs on.
   */
  attach(pid: number, options: AttachOptions = {}): Promise<ProcessAttachment> {
    return ProcessAttachment.open(this.#http, `${this.#path}/${pid}/attach`, options);
  }

  /** Replays the output kept so far, then follows it live until the process exits. */
  async *output(pid: number, options: { signal?: AbortSignal } = {}): AsyncGenerator<ExecEvent, void, undefined> {
    const response = await this.#http.send("GET", `${this.#path}/${pid}/output`, options);
    yield* readExecEvents(response);
  }
}
