import type { Connection } from "./connection.js";
import { CiabConnectionError, errorFromResponse } from "./errors.js";

/** An array is sent as the parameter repeated, once per element. */
export type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (`application/octet-stream`); a stream is sent without buffering. */
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  signal?: AbortSignal | undefined;
  /** Whether the answer needs a token; only health does not. */
  authenticated?: boolean;
  /** Defaults to `application/json`. */
  accept?: string;
  headers?: Record<string, string>;
}

export interface HttpClientOptions {
  /** Called once, on the first request: finding the server may read files. */
  connection: () => Promise<Connection>;
  fetch?: typeof globalThis.fetch;
}

export const userAgent = "ciab-sdk/0.1.0";

/** The one place that talks HTTP: base URL, auth header, JSON, error answers to typed errors. */
export class HttpClient {
  readonly #resolveConnection: () => Promise<Connection>;
  readonly #fetch: typeof globalThis.fetch;
  #connection: Promise<Connection> | undefined;

  constructor(options: HttpClientOptions) {
    this.#resolveConnection = options.connection;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  connection(): Promise<Connection> {
    this.#connection ??= this.#resolveConnection();
    return this.#connection;
  }

  /** Sends a request and parses its JSON answer. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    return (await response.json()) as T;
  }

  /** Sends a request; resolves with the answer once it is known to be a success, body unread. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const connection = await this.connection();
    const url = new URL(connection.url + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (Array.isArray(value)) for (const item of value as readonly string[]) url.searchParams.append(key, item);
      else if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: options.accept ?? "application/json", "user-agent": userAgent, ...options.headers };
    if (options.authenticated !== false && connection.token !== undefined) {
      headers.authorization = `Bearer ${connection.token}`;
    }
    const init: RequestInit = { method, headers, signal: options.signal ?? null };
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      headers["content-type"] = "application/octet-stream";
      init.body = options.body;
      // Node's fetch only sends a stream body half-duplex, and requires saying so.
      if (options.body instanceof ReadableStream) init.duplex = "half";
    }
    let response: Response;
    try {
      response = await this.#fetch(url, init);
    } catch (error) {
      if (isAbort(error)) throw error;
      const reason = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new CiabConnectionError("connection_failed", `cannot reach ciab server at ${connection.url}: ${reason}`, {
        cause: error,
      });
    }
    if (!response.ok) throw errorFromResponse(response.status, await readErrorBody(response));
    return response;
  }
}

async function readErrorBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => "");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isAbort(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "AbortError" || name === "TimeoutError";
}
