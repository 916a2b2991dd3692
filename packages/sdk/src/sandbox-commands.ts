import type { ExecRequestBody, ExecResultBody } from "@ciab/protocol";
import { readExecEvents, type ExecEvent } from "./exec-events.js";
import type { HttpClient } from "./http.js";

export type Command = ExecRequestBody["command"];

export interface RunCommandOptions extends Omit<ExecRequestBody, "command"> {
  signal?: AbortSignal;
}

/** Commands run in the foreground of one sandbox: a string runs through `sh -c`, an array is argv. */
export class SandboxCommands {
  readonly #http: HttpClient;
  readonly #path: string;

  constructor(http: HttpClient, sandboxPath: string) {
    this.#http = http;
    this.#path = sandboxPath;
  }

  /** Runs to completion and answers with captured output. A non-zero exit is a result, not an error. */
  run(command: Command, options: RunCommandOptions = {}): Promise<ExecResultBody> {
    const { signal, ...rest } = options;
    return this.#http.json<ExecResultBody>("POST", `${this.#path}/exec`, { json: { command, ...rest }, signal });
  }

  /**
   * Runs and yields `exec.start`, `exec.output` (as bytes) and `exec.exit` as they happen. The request
   * is sent when iteration starts; leaving the loop early closes the stream.
   */
  async *stream(command: Command, options: RunCommandOptions = {}): AsyncGenerator<ExecEvent, void, undefined> {
    const { signal, ...rest } = options;
    const response = await this.#http.send("POST", `${this.#path}/exec/stream`, {
      json: { command, ...rest },
      signal,
    });
    yield* readExecEvents(response);
  }
}
