import type { Approval, ApprovalState } from "@ciab/protocol";
import type { HttpClient } from "./http.js";

type Options = { signal?: AbortSignal };
type DecideOptions = { note?: string } & Options;

function noteBody(options: DecideOptions): { note?: string } {
  return options.note === undefined ? {} : { note: options.note };
}

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

  /** Approves and runs the held call; the answer carries its outcome. A `note` (at most 1024 characters) is kept on the approval. */
  approve(id: string, options: DecideOptions = {}): Promise<Approval> {
    return this.#http.json("POST", `/api/v1/approvals/${encodeURIComponent(id)}/approve`, { json: noteBody(options), signal: options.signal });
  }

  /** Denies the held call; a `note` (at most 1024 characters) ends the `approval_denied` message its caller gets. */
  deny(id: string, options: DecideOptions = {}): Promise<Approval> {
    return this.#http.json("POST", `/api/v1/approvals/${encodeURIComponent(id)}/deny`, { json: noteBody(options), signal: options.signal });
  }
}
