import type { Artifact, PublishArtifactRequest } from "@ciab/protocol";
import { errorFromResponse } from "./errors.js";
import type { HttpClient } from "./http.js";

export interface ListArtifactsOptions {
  sessionID?: string;
  sandboxID?: string;
  /** Page size (at most 500). */
  limit?: number;
  /** The `next` of the previous page. */
  after?: string;
  signal?: AbortSignal;
}

/** `ciab.artifacts`: files published from sandboxes, kept after the sandboxes are gone. */
export class Artifacts {
  readonly #http: HttpClient;
  readonly #fetch: typeof globalThis.fetch;

  constructor(http: HttpClient, fetchFunction: typeof globalThis.fetch = globalThis.fetch) {
    this.#http = http;
    this.#fetch = fetchFunction;
  }

  /** Copies a file of a sandbox (or of a session's sandbox) into the artifact store. */
  publish(request: PublishArtifactRequest, options: { signal?: AbortSignal } = {}): Promise<Artifact> {
    return this.#http.json("POST", "/api/v1/artifacts", { json: request, signal: options.signal });
  }

  list(options: ListArtifactsOptions = {}): Promise<{ artifacts: Artifact[]; next: string | null }> {
    return this.#http.json("GET", "/api/v1/artifacts", {
      query: { session_id: options.sessionID, sandbox_id: options.sandboxID, limit: options.limit, after: options.after },
      signal: options.signal,
    });
  }

  get(id: string, options: { signal?: AbortSignal } = {}): Promise<Artifact> {
    return this.#http.json("GET", `/api/v1/artifacts/${encodeURIComponent(id)}`, options);
  }

  async delete(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#http.json("DELETE", `/api/v1/artifacts/${encodeURIComponent(id)}`, options);
  }

  /**
   * The artifact's bytes as a stream, through a fresh signed URL (which needs no token). Throws
   * RateLimitedError past the hourly limit and ArtifactInfectedError for quarantined files.
   */
  async download(id: string, options: { signal?: AbortSignal } = {}): Promise<{ artifact: Artifact; body: ReadableStream<Uint8Array> }> {
    const artifact = await this.get(id, options);
    const response = await this.#fetch(artifact.download_url!, { signal: options.signal ?? null });
    if (!response.ok || response.body === null) {
      const text = await response.text().catch(() => "");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the status says enough
      }
      throw errorFromResponse(response.status, body);
    }
    return { artifact, body: response.body };
  }
}
