import type { ErrorCode } from "@ciab/protocol";

/** A code of the server's registry, or one this client does not know yet (a newer server). */
export type ApiErrorCode = ErrorCode | (string & {});

export interface CiabApiErrorOptions {
  status: number;
  context?: Record<string, unknown> | undefined;
  cause?: unknown;
}

/** An error answer of the ciab API: `{ error: { code, message, context? } }` with its HTTP status. */
export class CiabApiError extends Error {
  override readonly name: string = "CiabApiError";
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly context: Record<string, unknown> | undefined;

  constructor(code: ApiErrorCode, message: string, options: CiabApiErrorOptions) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.context = options.context;
  }

  toJSON(): { code: string; message: string; status: number; context?: Record<string, unknown> } {
    const body: ReturnType<CiabApiError["toJSON"]> = { code: this.code, message: this.message, status: this.status };
    if (this.context !== undefined) body.context = this.context;
    return body;
  }
}

export class InvalidRequestError extends CiabApiError {
  override readonly name: string = "InvalidRequestError";
}
export class AuthenticationError extends CiabApiError {
  override readonly name: string = "AuthenticationError";
}
export class PermissionDeniedError extends CiabApiError {
  override readonly name: string = "PermissionDeniedError";
}
export class NotFoundError extends CiabApiError {
  override readonly name: string = "NotFoundError";
}
export class ConflictError extends CiabApiError {
  override readonly name: string = "ConflictError";
}
export class PayloadTooLargeError extends CiabApiError {
  override readonly name: string = "PayloadTooLargeError";
}
export class UnprocessableError extends CiabApiError {
  override readonly name: string = "UnprocessableError";
}
export class CapabilityUnsupportedError extends CiabApiError {
  override readonly name: string = "CapabilityUnsupportedError";
}
export class ExecTimeoutError extends CiabApiError {
  override readonly name: string = "ExecTimeoutError";
}
/** The control plane could not reach the sandbox or its backend; trying again later may help. */
export class SandboxUnavailableError extends CiabApiError {
  override readonly name: string = "SandboxUnavailableError";
}
/** The sandbox failed to provision; `context.sandbox_id` names it. */
export class SandboxFailedError extends CiabApiError {
  override readonly name: string = "SandboxFailedError";
}
/**
 * The workspace spent its hourly cap (`[budget] max_hourly_usd`); `context.resets_at` says when the clock hour
 * turns and new sessions and sandboxes can start again.
 */
export class CostCapReachedError extends CiabApiError {
  override readonly name: string = "CostCapReachedError";
}
/** A per-user limit is spent (artifact downloads per hour); `context.retry_after_seconds` says when to retry. */
export class RateLimitedError extends CiabApiError {
  override readonly name: string = "RateLimitedError";
}
/** The artifact was quarantined by the virus scanner; `context.signature` names what clamd found. */
export class ArtifactInfectedError extends CiabApiError {
  override readonly name: string = "ArtifactInfectedError";
}
/** The sandbox's disk has no room for what was asked (a snapshot restore). */
export class InsufficientStorageError extends CiabApiError {
  override readonly name: string = "InsufficientStorageError";
}
/** The workspace has no secret with the key of the provider's model API; `context.secret` names it. */
export class ProviderKeyMissingError extends CiabApiError {
  override readonly name: string = "ProviderKeyMissingError";
}
/** An admin denied the tool call a policy rule held; `context.approval_id` names the approval. */
export class ApprovalDeniedError extends CiabApiError {
  override readonly name: string = "ApprovalDeniedError";
}
/** Nobody decided on the held tool call in time (`[policy] approval_timeout_seconds`). */
export class ApprovalTimeoutError extends CiabApiError {
  override readonly name: string = "ApprovalTimeoutError";
}
/** The control plane's store (a DynamoDB table, a database) is throttling or out of reach; retrying later can help. */
export class StoreUnavailableError extends CiabApiError {
  override readonly name: string = "StoreUnavailableError";
}
export class InternalServerError extends CiabApiError {
  override readonly name: string = "InternalServerError";
}

type ErrorClass = new (code: ApiErrorCode, message: string, options: CiabApiErrorOptions) => CiabApiError;

/** Every code of the registry names its class here, so a new code fails the type check until it is mapped. */
const errorClasses: Record<ErrorCode, ErrorClass> = {
  invalid_json: InvalidRequestError,
  invalid_request: InvalidRequestError,
  invalid_path: InvalidRequestError,
  method_not_allowed: InvalidRequestError,
  unsupported_media_type: InvalidRequestError,
  header_too_large: InvalidRequestError,
  request_timeout: InvalidRequestError,
  path_outside_sandbox: PermissionDeniedError,
  unauthorized: AuthenticationError,
  preview_token_invalid: AuthenticationError,
  preview_token_scope: PermissionDeniedError,
  session_ended: ConflictError,
  too_many_streams: SandboxUnavailableError,
  preview_unreachable: SandboxUnavailableError,
  forbidden: PermissionDeniedError,
  not_found: NotFoundError,
  sandbox_not_found: NotFoundError,
  file_not_found: NotFoundError,
  process_not_found: NotFoundError,
  conflict: ConflictError,
  sandbox_not_ready: ConflictError,
  invalid_state: ConflictError,
  already_exists: ConflictError,
  not_a_directory: ConflictError,
  is_a_directory: ConflictError,
  directory_not_empty: ConflictError,
  volume_in_use: ConflictError,
  payload_too_large: PayloadTooLargeError,
  command_not_found: UnprocessableError,
  capability_unsupported: CapabilityUnsupportedError,
  image_not_found: UnprocessableError,
  provider_key_missing: ProviderKeyMissingError,
  cost_cap_reached: CostCapReachedError,
  rate_limited: RateLimitedError,
  artifact_infected: ArtifactInfectedError,
  scanner_unavailable: SandboxUnavailableError,
  artifact_store_unavailable: SandboxUnavailableError,
  store_unavailable: StoreUnavailableError,
  insufficient_storage: InsufficientStorageError,
  approval_denied: ApprovalDeniedError,
  approval_timeout: ApprovalTimeoutError,
  exec_timeout: ExecTimeoutError,
  agent_unreachable: SandboxUnavailableError,
  runtime_error: SandboxUnavailableError,
  sandbox_failed: SandboxFailedError,
  requires_server: CapabilityUnsupportedError,
  internal: InternalServerError,
};

/** Turns an error answer into its typed class; an unknown code or a body that is not ours gives the base class. */
export function errorFromResponse(status: number, body: unknown): CiabApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; context?: unknown } } | null)?.error;
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    const context = isRecord(error.context) ? error.context : undefined;
    const ErrorClass = Object.hasOwn(errorClasses, error.code)
      ? errorClasses[error.code as ErrorCode]
      : CiabApiError;
    return new ErrorClass(error.code, error.message, { status, context });
  }
  const code = status === 401 ? "unauthorized" : status === 404 ? "not_found" : "internal";
  const detail = typeof body === "string" && body.length > 0 ? `: ${body.slice(0, 200)}` : "";
  return new (errorClasses[code])(code, `unexpected answer with status ${status}${detail}`, { status });
}

/** The client could not talk to a server at all: none configured, or the connection failed. */
export class CiabConnectionError extends Error {
  override readonly name = "CiabConnectionError";
  readonly code: "server_not_found" | "connection_failed";

  constructor(code: CiabConnectionError["code"], message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
  }

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
