import type { HttpClient } from "./http.js";

export interface SecretInfo {
  name: string;
  created_at: string;
  updated_at: string;
}

/** `ciab.secrets`: workspace secrets such as model API keys. Values go in, never come out. */
export class Secrets {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  set(name: string, value: string, options: { signal?: AbortSignal } = {}): Promise<SecretInfo> {
    return this.#http.json<SecretInfo>("PUT", `/api/v1/secrets/${encodeURIComponent(name)}`, { json: { value }, signal: options.signal });
  }

  async list(options: { signal?: AbortSignal } = {}): Promise<SecretInfo[]> {
    return (await this.#http.json<{ secrets: SecretInfo[] }>("GET", "/api/v1/secrets", options)).secrets;
  }

  async delete(name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#http.json("DELETE", `/api/v1/secrets/${encodeURIComponent(name)}`, options);
  }
}
