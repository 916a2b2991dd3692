import type { CreateSandboxRequest, Sandbox, SandboxState } from "@ciab/protocol";
import type { HttpClient } from "./http.js";
import { SandboxHandle } from "./sandbox-handle.js";

export interface CreateSandboxOptions {
  /**
   * Answer once the sandbox is ready (default). With `false` the answer comes at once, in state
   * `provisioning`; `sandbox.waitUntilReady()` follows it from there.
   */
  wait?: boolean;
  signal?: AbortSignal;
}

export interface ListSandboxesOptions {
  all?: boolean;
  states?: readonly SandboxState[];
  tags?: Readonly<Record<string, string | null>>;
  signal?: AbortSignal;
}

/** `ciab.sandboxes`: create, list and look up sandboxes. */
export class Sandboxes {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** Throws `SandboxFailedError` (context `sandbox_id`) when provisioning fails while waiting. */
  async create(request: CreateSandboxRequest = {}, options: CreateSandboxOptions = {}): Promise<SandboxHandle> {
    const info = await this.#http.json<Sandbox>("POST", "/api/v1/sandboxes", {
      query: { wait: options.wait ?? true },
      json: request,
      signal: options.signal,
    });
    return new SandboxHandle(this.#http, info);
  }

  /**
   * Live sandboxes; with `all`, terminated ones too. `states` keeps those in any of the states, `tags` those
   * with every tag given (`null` as a value: the tag with any value).
   */
  async list(options: ListSandboxesOptions = {}): Promise<SandboxHandle[]> {
    const tags = Object.entries(options.tags ?? {}).map(([key, value]) => (value === null ? key : `${key}:${value}`));
    const body = await this.#http.json<{ sandboxes: Sandbox[] }>("GET", "/api/v1/sandboxes", {
      query: {
        all: options.all === true ? true : undefined,
        state: options.states?.length ? options.states : undefined,
        tag: tags.length > 0 ? tags : undefined,
      },
      signal: options.signal,
    });
    return body.sandboxes.map((info) => new SandboxHandle(this.#http, info));
  }

  async get(id: string, options: { signal?: AbortSignal } = {}): Promise<SandboxHandle> {
    const info = await this.#http.json<Sandbox>("GET", `/api/v1/sandboxes/${encodeURIComponent(id)}`, options);
    return new SandboxHandle(this.#http, info);
  }

  /** Sets a sandbox's timeout by id: it lives `seconds` from now, and that long after each resume. */
  setTimeout(id: string, seconds: number, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    return this.#http.json<Sandbox>("POST", `/api/v1/sandboxes/${encodeURIComponent(id)}/timeout`, {
      json: { timeout_secs: seconds },
      signal: options.signal,
    });
  }

  /** Deletes a sandbox by id without looking it up first; answers with its state afterwards. */
  delete(id: string, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    return this.#http.json<Sandbox>("DELETE", `/api/v1/sandboxes/${encodeURIComponent(id)}`, options);
  }
}
