import type { Approval, ToolArguments, ToolName } from "@ciab/protocol";
import type { HttpClient } from "./http.js";

/** A tool call's answer: the tool's result, or the approval a policy rule holds it for. */
export type ToolCallAnswer<T = unknown> =
  | { status: "done"; result: T }
  | { status: "pending"; approval: Pick<Approval, "id" | "state" | "expires_at"> };

export interface ToolCallOptions {
  /** Wait for a held call's decision: `true` up to the server's maximum, or this many seconds. */
  wait?: boolean | number;
  signal?: AbortSignal;
}

/**
 * `ciab.tools(sessionID)` or `sandbox.tools` for a session: seed 003's tools by name (list_files,
 * read_file, write_file, shell, shell_stream, publish_artifact). A denied call throws ApprovalDeniedError,
 * an undecided one ApprovalTimeoutError.
 */
export class SessionTools {
  readonly #http: HttpClient;
  readonly #path: string;

  constructor(http: HttpClient, sessionID: string) {
    this.#http = http;
    this.#path = `/api/v1/sessions/${encodeURIComponent(sessionID)}/tools`;
  }

  async call<N extends ToolName>(name: N, args: Partial<ToolArguments<N>> & Record<string, unknown>, options: ToolCallOptions = {}): Promise<ToolCallAnswer> {
    const query = typeof options.wait === "number" ? { wait_secs: options.wait } : options.wait ? { wait: "true" } : {};
    const response = await this.#http.send("POST", `${this.#path}/${encodeURIComponent(name)}`, { json: args, query, signal: options.signal });
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status === 202) return { status: "pending", approval: body.approval as Pick<Approval, "id" | "state" | "expires_at"> };
    return { status: "done", result: body };
  }
}
