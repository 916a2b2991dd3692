import type { Snapshot } from "@ciab/protocol";
import type { HttpClient } from "./http.js";

/** `ciab.snapshots`: tarballs of sandboxes' /workspace; restore one with `sandboxes.create({ restore })`. */
export class Snapshots {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** Snapshots a sandbox's work dir, or (with `sessionID`) the work dir of a session's sandbox. */
  create(
    source: { sandboxID: string; sessionID?: undefined } | { sessionID: string; sandboxID?: undefined },
    options: { label?: string; signal?: AbortSignal } = {},
  ): Promise<Snapshot> {
    const path =
      source.sessionID !== undefined
        ? `/api/v1/sessions/${encodeURIComponent(source.sessionID)}/snapshot`
        : `/api/v1/sandboxes/${encodeURIComponent(source.sandboxID!)}/snapshot`;
    return this.#http.json("POST", path, { json: options.label === undefined ? {} : { label: options.label }, signal: options.signal });
  }

  list(options: { sessionID?: string; sandboxID?: string; limit?: number; after?: string; signal?: AbortSignal } = {}): Promise<{
    snapshots: Snapshot[];
    next: string | null;
  }> {
    return this.#http.json("GET", "/api/v1/snapshots", {
      query: { session_id: options.sessionID, sandbox_id: options.sandboxID, limit: options.limit, after: options.after },
      signal: options.signal,
    });
  }

  get(id: string, options: { signal?: AbortSignal } = {}): Promise<Snapshot> {
    return this.#http.json("GET", `/api/v1/snapshots/${encodeURIComponent(id)}`, options);
  }

  async delete(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#http.json("DELETE", `/api/v1/snapshots/${encodeURIComponent(id)}`, options);
  }
}
