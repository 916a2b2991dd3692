import type { Ciab } from "@ciab/sdk";

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

  constructor(globals: GlobalOptions) {
    this.globals = globals;
    this.json = globals.json === true;
  }

  client(): Promise<Ciab> {
    this.#client ??= import("@ciab/sdk").then(
      ({ Ciab }) => new Ciab({ url: this.globals.url, token: this.globals.token, dataDirectory: this.globals.dataDir }),
    );
    return this.#client;
  }

  /** Prints a value as JSON (`--json`) or the human text made from it. */
  print<T>(value: T, human: (value: T) => string): void {
    process.stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${human(value)}\n`);
  }
}
