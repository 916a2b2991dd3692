import type { Ciab } from "@ciab/sdk";
import { createSandboxOutput, terminalText, type SandboxOutput } from "./terminal/sandbox-output.js";

/** Options every command takes (`--url`, `--token`, `--data-dir`) and its own `--json`. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

/** What a command gets: how to print, and a client made on first use (the SDK is loaded lazily). */
export class CommandContext {
  readonly json: boolean;
  readonly globals: GlobalOptions;
  #client: Promise<Ciab> | undefined;
  readonly #outputs = new Map<"stdout" | "stderr", SandboxOutput>();

  constructor(globals: GlobalOptions) {
    this.globals = globals;
    this.json = globals.json === true;
  }

  client(): Promise<Ciab> {
    this.#client ??= Promise.all([import("@ciab/sdk"), import("./http/node-fetch.js")]).then(
      ([{ Ciab }, { nodeFetch }]) =>
        new Ciab({
          url: this.globals.url,
          token: this.globals.token,
          dataDirectory: this.globals.dataDir,
          fetch: nodeFetch as unknown as typeof globalThis.fetch,
        }),
    );
    return this.#client;
  }

  /**
   * Prints a value as JSON (`--json`, escaped by construction) or the human text made from it, which may
   * quote a sandbox (names, failure messages) and so is cleaned of control sequences on a terminal.
   */
  print<T>(value: T, human: (value: T) => string): void {
    process.stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : terminalText(process.stdout, `${human(value)}\n`));
  }

  /** The writer for a stream of sandbox output to this process's stdout or stderr; one per stream. */
  sandboxOutput(stream: "stdout" | "stderr"): SandboxOutput {
    let output = this.#outputs.get(stream);
    if (!output) {
      output = createSandboxOutput(stream === "stderr" ? process.stderr : process.stdout);
      this.#outputs.set(stream, output);
    }
    return output;
  }

  /** Ends every sandbox output stream (flushing what a split character or sequence held back). */
  endSandboxOutput(): void {
    for (const output of this.#outputs.values()) output.end();
    this.#outputs.clear();
  }
}
