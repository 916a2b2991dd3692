import type { CreateTokenRequest, CreatedToken, Token } from "@ciab/protocol";
import type { HttpClient } from "./http.js";

type Options = { signal?: AbortSignal };

/** `ciab.tokens`: API tokens of the caller (a workspace admin sees the workspace's). */
export class Tokens {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** `token` in the answer is the token's text, shown this once. */
  create(request: CreateTokenRequest, options: Options = {}): Promise<CreatedToken> {
    return this.#http.json<CreatedToken>("POST", "/api/v1/tokens", { json: request, signal: options.signal });
  }

  async list(options: Options = {}): Promise<Token[]> {
    return (await this.#http.json<{ tokens: Token[] }>("GET", "/api/v1/tokens", options)).tokens;
  }

  /** It stops working at once, on open streams too. */
  revoke(id: string, options: Options = {}): Promise<Token> {
    return this.#http.json<Token>("DELETE", `/api/v1/tokens/${encodeURIComponent(id)}`, options);
  }
}
