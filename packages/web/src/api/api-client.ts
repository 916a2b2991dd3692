import type {
  Approval,
  Artifact,
  AuditEntry,
  BudgetStatus,
  CreateSandboxRequest,
  CreateSessionRequest,
  ExecResultBody,
  ListeningPort,
  Sandbox,
  Session,
  SessionPort,
  UsageReport,
  WhoAmI,
} from "@ciab/protocol";
import { ApiError, errorFromResponse } from "./api-error.js";

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  json?: unknown;
  signal?: AbortSignal | undefined;
  headers?: Record<string, string>;
  accept?: string;
}

/** The slice of the public API (/api/v1) the UI uses, with the token in a header, never in a URL. */
export type ApiClient = ReturnType<typeof createApiClient>;

export interface ApiClientOptions {
  /** Called when the server refuses the token (revoked, expired, its user removed) before the error is thrown. */
  onUnauthorized?(error: ApiError): void;
  fetch?: typeof fetch;
}

export function createApiClient(token: string, clientOptions: ApiClientOptions = {}) {
  const fetchFunction = clientOptions.fetch ?? ((input, init) => fetch(input, init));
  async function send(method: string, route: string, options: RequestOptions = {}): Promise<Response> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) search.set(key, String(value));
    const url = `/api/v1${route}${search.size > 0 ? `?${search}` : ""}`;
    const headers: Record<string, string> = { accept: options.accept ?? "application/json", authorization: `Bearer ${token}`, ...options.headers };
    if (options.json !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetchFunction(url, {
        method,
        headers,
        signal: options.signal ?? null,
        credentials: "omit",
        cache: "no-store",
        ...(options.json !== undefined && { body: JSON.stringify(options.json) }),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError("connection_failed", `cannot reach the server: ${(error as Error).message}`, 0);
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      if (response.status === 401) clientOptions.onUnauthorized?.(error);
      throw error;
    }
    return response;
  }

  async function json<T>(method: string, route: string, options: RequestOptions = {}): Promise<T> {
    return (await (await send(method, route, options)).json()) as T;
  }

  const id = encodeURIComponent;
  return {
    send,
    whoami: (signal?: AbortSignal) => json<WhoAmI>("GET", "/whoami", { signal }),
    sandboxes: {
      list: (signal?: AbortSignal) => json<{ sandboxes: Sandbox[] }>("GET", "/sandboxes", { signal }).then((body) => body.sandboxes),
      get: (sandboxID: string, signal?: AbortSignal) => json<Sandbox>("GET", `/sandboxes/${id(sandboxID)}`, { signal }),
      /** Answers at once (202, provisioning): the list shows it become ready. */
      create: (request: CreateSandboxRequest) => json<Sandbox>("POST", "/sandboxes", { json: request, query: { wait: false } }),
      remove: (sandboxID: string) => json<Sandbox>("DELETE", `/sandboxes/${id(sandboxID)}`),
      exec: (sandboxID: string, command: string, signal?: AbortSignal) =>
        json<ExecResultBody>("POST", `/sandboxes/${id(sandboxID)}/exec`, { json: { command, timeout_ms: 120_000 }, signal }),
      ports: (sandboxID: string, signal?: AbortSignal) =>
        json<{ ports: ListeningPort[] }>("GET", `/sandboxes/${id(sandboxID)}/ports`, { signal }).then((body) => body.ports),
    },
    sessions: {
      list: (signal?: AbortSignal) => json<{ sessions: Session[] }>("GET", "/sessions", { signal }).then((body) => body.sessions),
      get: (sessionID: string, signal?: AbortSignal) => json<Session>("GET", `/sessions/${id(sessionID)}`, { signal }),
      create: (request: CreateSessionRequest) => json<Session>("POST", "/sessions", { json: request }),
      cancel: (sessionID: string) => json<Session>("POST", `/sessions/${id(sessionID)}/cancel`),
      ports: (sessionID: string, signal?: AbortSignal) =>
        json<{ ports: SessionPort[] }>("GET", `/sessions/${id(sessionID)}/ports`, { signal }).then((body) => body.ports),
      /** The live event stream from after `lastSeq` (its SSE id), resumed by `Last-Event-ID`. */
      openEvents: (sessionID: string, lastSeq: number, signal: AbortSignal) =>
        send("GET", `/sessions/${id(sessionID)}/events`, {
          accept: "text/event-stream",
          headers: lastSeq > 0 ? { "last-event-id": String(lastSeq) } : {},
          signal,
        }),
    },
    artifacts: {
      /** One page, oldest first; `next` continues it. */
      list: (filter: { sessionID?: string; sandboxID?: string; after?: string }, signal?: AbortSignal) =>
        json<{ artifacts: Artifact[]; next: string | null }>("GET", "/artifacts", {
          query: { session_id: filter.sessionID, sandbox_id: filter.sandboxID, after: filter.after, limit: 100 },
          signal,
        }),
    },
    approvals: {
      /** The held calls still waiting, oldest first (admins: the workspace's; members: their own). */
      pending: (filter: { sessionID?: string }, signal?: AbortSignal) =>
        json<{ approvals: Approval[]; next: string | null }>("GET", "/approvals", {
          query: { state: "pending", session_id: filter.sessionID, limit: 100 },
          signal,
        }),
      /** A non-empty `note` is kept on the approval; a denied call's caller reads it at the end of its error. */
      approve: (approvalID: string, note?: string) => json<Approval>("POST", `/approvals/${id(approvalID)}/approve`, { json: note ? { note } : {} }),
      deny: (approvalID: string, note?: string) => json<Approval>("POST", `/approvals/${id(approvalID)}/deny`, { json: note ? { note } : {} }),
    },
    /** One page of the audit trail, oldest first; `next` is the next page's cursor. */
    audit: (filter: { sessionID?: string; cursor?: string }, signal?: AbortSignal) =>
      json<{ entries: AuditEntry[]; next: string | null }>("GET", "/audit", {
        query: { session_id: filter.sessionID, cursor: filter.cursor, limit: 100 },
        signal,
      }),
    budget: (signal?: AbortSignal) => json<BudgetStatus>("GET", "/budget", { signal }),
    usage: (workspaceID: string, signal?: AbortSignal) =>
      json<UsageReport>("GET", "/admin/usage", { query: { workspace_id: workspaceID, group_by: "day" }, signal }),
  };
}
