import type { AuditEntry } from "@ciab/protocol";
import type { HttpClient } from "./http.js";

export interface AuditListOptions {
  sandboxID?: string;
  sessionID?: string;
  actor?: string;
  tool?: string;
  /** ISO timestamps. */
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number;
  signal?: AbortSignal;
}

/** `ciab.audit`: the trail of tool calls (admins: the workspace's; members: their own). */
export class Audit {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  list(options: AuditListOptions = {}): Promise<{ entries: AuditEntry[]; next: string | null }> {
    return this.#http.json("GET", "/api/v1/audit", {
      query: {
        sandbox_id: options.sandboxID,
        session_id: options.sessionID,
        actor: options.actor,
        tool: options.tool,
        since: options.since,
        until: options.until,
        cursor: options.cursor,
        limit: options.limit,
      },
      signal: options.signal,
    });
  }
}
