import type { CiabError, ErrorCode } from "@ciab/protocol";

/**
 * E2B's SDK turns answers into its own error classes by status (REST, envd HTTP) or by Connect code (envd
 * RPC): 401 AuthenticationError, 404 NotFoundError, 400 InvalidArgumentError, 429 RateLimitError, 502 and
 * Connect `unavailable` TimeoutError ("the sandbox timed out"). A ciab code is mapped onto the one its SDK
 * user would catch; everything else keeps our status and reaches them as a SandboxError.
 */
const statusOverrides: Partial<Record<ErrorCode, number>> = {
  // A path outside /workspace is a bad argument to E2B users (InvalidArgumentError), not a 403 they cannot catch.
  path_outside_sandbox: 400,
  invalid_path: 400,
};

export { asCiabError } from "../../api/error-handler.js";

export function e2bStatus(error: CiabError): number {
  return statusOverrides[error.code] ?? error.status;
}

/**
 * The REST and envd HTTP error body: E2B's `{ code, message }` (its SDK reads `code === 404` and `message`),
 * with ours beside it under `error` so a ciab client reads it too.
 */
export function e2bErrorBody(error: CiabError): { code: number; message: string; error: { code: ErrorCode; message: string } } {
  return { code: e2bStatus(error), message: error.message, error: { code: error.code, message: error.message } };
}

/** Connect's codes (connectrpc.com/docs/protocol#error-codes), by what our codes mean. */
export type ConnectCode =
  | "invalid_argument"
  | "unauthenticated"
  | "permission_denied"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "resource_exhausted"
  | "deadline_exceeded"
  | "unimplemented"
  | "unavailable"
  | "internal";

const connectCodes: Partial<Record<ErrorCode, ConnectCode>> = {
  invalid_json: "invalid_argument",
  invalid_request: "invalid_argument",
  invalid_path: "invalid_argument",
  path_outside_sandbox: "invalid_argument",
  unauthorized: "unauthenticated",
  forbidden: "permission_denied",
  approval_denied: "permission_denied",
  not_found: "not_found",
  sandbox_not_found: "not_found",
  file_not_found: "not_found",
  process_not_found: "not_found",
  already_exists: "already_exists",
  not_a_directory: "failed_precondition",
  is_a_directory: "failed_precondition",
  directory_not_empty: "failed_precondition",
  invalid_state: "failed_precondition",
  sandbox_not_ready: "unavailable",
  // As connect-go answers a message over its limit.
  payload_too_large: "resource_exhausted",
  unsupported_media_type: "invalid_argument",
  rate_limited: "resource_exhausted",
  cost_cap_reached: "resource_exhausted",
  command_not_found: "not_found",
  capability_unsupported: "unimplemented",
  request_timeout: "deadline_exceeded",
  approval_timeout: "deadline_exceeded",
  exec_timeout: "deadline_exceeded",
  agent_unreachable: "unavailable",
  runtime_error: "unavailable",
  sandbox_failed: "unavailable",
};

export function connectCode(error: CiabError): ConnectCode {
  return connectCodes[error.code] ?? "internal";
}

/** The HTTP status Connect's unary protocol answers an error code with. */
export const connectStatus: Record<ConnectCode, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 400,
  resource_exhausted: 429,
  deadline_exceeded: 504,
  unimplemented: 501,
  unavailable: 503,
  internal: 500,
};
