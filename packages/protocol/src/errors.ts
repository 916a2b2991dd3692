/**
 * The one registry of error codes. Every error answer of the API and of the agent channel is
 * `{ error: { code, message, context? } }` with one of these codes; the HTTP status comes from this map,
 * so a code always means the same status wherever it is raised.
 */
export const errorStatus = {
  invalid_json: 400,
  invalid_request: 400,
  invalid_path: 400,
  path_outside_sandbox: 403,
  unauthorized: 401,
  /** A preview token that is missing, expired or not signed by this server. */
  preview_token_invalid: 401,
  forbidden: 403,
  /** An admin denied the tool call that a policy rule held for approval. */
  approval_denied: 403,
  /** A valid preview token presented for another session or port than the one it names. */
  preview_token_scope: 403,
  not_found: 404,
  sandbox_not_found: 404,
  file_not_found: 404,
  process_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  sandbox_not_ready: 409,
  invalid_state: 409,
  already_exists: 409,
  not_a_directory: 409,
  is_a_directory: 409,
  directory_not_empty: 409,
  /** The volume is mounted by a live sandbox (a volume is mounted by at most one). */
  volume_in_use: 409,
  request_timeout: 408,
  /** Nobody decided on the held tool call within `[policy] approval_timeout_seconds`. */
  approval_timeout: 408,
  /** The session behind a preview ended: its previews are revoked. */
  session_ended: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  header_too_large: 431,
  command_not_found: 422,
  capability_unsupported: 422,
  image_not_found: 422,
  /** The workspace has no secret holding the key of the provider's model API (`ANTHROPIC_API_KEY`…). */
  provider_key_missing: 422,
  /** The workspace spent its `[budget] max_hourly_usd` this clock hour; new machines wait for the next hour. */
  cost_cap_reached: 429,
  /** A session already carries `[previews] max_streams_per_session` preview requests. */
  too_many_streams: 429,
  /** A per-user limit (artifact download bytes per hour) is spent; `Retry-After` says when it frees up. */
  rate_limited: 429,
  /** The artifact was quarantined by the virus scanner; it cannot be downloaded. */
  artifact_infected: 403,
  /** Scanning is on and clamd cannot be reached: uploads fail closed. */
  scanner_unavailable: 503,
  /** The artifact store (a dir or S3) failed or cannot be reached. */
  artifact_store_unavailable: 503,
  /** The store's database is throttling, failing or out of reach (a DynamoDB table, a Postgres server). */
  store_unavailable: 503,
  /** The sandbox's disk has no room for what was asked (a snapshot restore). */
  insufficient_storage: 507,
  exec_timeout: 504,
  agent_unreachable: 502,
  /** Nothing accepts connections on that port inside the sandbox. */
  preview_unreachable: 502,
  runtime_error: 502,
  sandbox_failed: 502,
  /** What a serverless deployment (the API on Lambda) cannot hold: WebSocket attach, previews, live streams. */
  requires_server: 501,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export const errorCodes = Object.keys(errorStatus) as ErrorCode[];

export interface ErrorBody {
  error: { code: ErrorCode; message: string; context?: Record<string, unknown> };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && value in errorStatus;
}

/** An error that knows its code; thrown by services and agentd, turned into an error answer at the edge. */
export class CiabError extends Error {
  override readonly name = "CiabError";
  readonly code: ErrorCode;
  readonly context: Record<string, unknown> | undefined;
  /** Whether trying the same call again can help (a backend being busy, a machine still booting). */
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown>; retryable?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.context = options.context;
    this.retryable = options.retryable ?? false;
  }

  get status(): number {
    return errorStatus[this.code];
  }

  toBody(): ErrorBody {
    const error: ErrorBody["error"] = { code: this.code, message: this.message };
    if (this.context !== undefined) error.context = this.context;
    return { error };
  }
}

/** Reads an error answer back into a CiabError; anything unrecognised becomes `internal`. */
export function errorFromBody(status: number, body: unknown): CiabError {
  const error = (body as Partial<ErrorBody> | undefined)?.error;
  if (error && isErrorCode(error.code) && typeof error.message === "string") {
    return new CiabError(error.code, error.message, error.context ? { context: error.context } : {});
  }
  return new CiabError("internal", `unexpected answer with status ${status}`, { context: { body } });
}
