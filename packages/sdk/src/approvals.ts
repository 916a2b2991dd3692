import type { Approval, ApprovalState } from "@ciab/protocol";
import type { HttpClient } from "./http.js";

type Options = { signal?: AbortSignal };

/** `ciab.approvals`: tool calls held by `[policy] tool_rules`; workspace admins decide them. */
export class Approvals {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  list(options: { state?: ApprovalState; sessionID?: string; limit?: number; after?: string } & Options = {}): Promise<{ approvals: Approval[]; next: string | null }> {
    return this.#http.json("GET", "/api/v1/approvals", {
      query: { state: options.state, session_id: options.sessionID, limit: options.limit, after: options.after },
      signal: options.signal,
    });
  }

  /** With `waitSecs`, waits until it is decided and an approved call ran. */
  get(id: string, options: { waitSecs?: number } & Options = {}): Promise<Approval> {
    return this.#http.json("GET", `/api/v1/approvals/${encodeURIComponent(id)}`, { query: { wait_secs: options.waitSecs }, signal: options.signal });
  }

  /** Approves and runs the held call; the answer carries its outcome. */
  approve(id: string, options: Options = {}): Promise<Approval> {
    return this.#http.json("POST", `/api/v1/approvals/${encodeURIComponent(id)}/approve`, { json: {}, signal: options.signal });
  }

  deny(id: string, options: Options = {}): Promise<Approval> {
    return this.#http.json("POST", `/api/v1/approvals/${encodeURIComponent(id)}/deny`, { json: {}, signal: options.signal });
  }
}
