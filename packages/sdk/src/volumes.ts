import type { Volume } from "@ciab/protocol";
import type { HttpClient } from "./http.js";

/**
 * `ciab.volumes`: persistent work dirs that outlive sandboxes. A sandbox or session created with
 * `persistence: "persistent-volume"` mounts the caller's volume at /workspace (made on first use).
 */
export class Volumes {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  async list(options: { signal?: AbortSignal } = {}): Promise<Volume[]> {
    return (await this.#http.json<{ volumes: Volume[] }>("GET", "/api/v1/volumes", options)).volumes;
  }

  get(id: string, options: { signal?: AbortSignal } = {}): Promise<Volume> {
    return this.#http.json("GET", `/api/v1/volumes/${encodeURIComponent(id)}`, options);
  }

  /** Deletes the volume and its files; `ConflictError` (`volume_in_use`) while a live sandbox mounts it. */
  async delete(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#http.json("DELETE", `/api/v1/volumes/${encodeURIComponent(id)}`, options);
  }
}
