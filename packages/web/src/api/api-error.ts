/** An answer of the API's `{ error: { code, message } }` shape, or a failure to reach it at all. */
export class ApiError extends Error {
  readonly code: string;
  /** 0 when no answer came (network down, aborted). */
  readonly status: number;

  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }

  /** Worth asking again: the server was unreachable or busy, not refusing this request. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** Most bytes of an error answer read: a proxy's error page can be large and says nothing more. */
const errorBodyLimit = 64 * 1024;

/** The typed error of a failed answer; its body is read (bounded) and the message kept as the API wrote it. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const text = (await response.text()).slice(0, errorBodyLimit);
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string" && typeof body.error.message === "string") {
      return new ApiError(body.error.code, body.error.message, response.status);
    }
  } catch {
    // Not the API's JSON: a proxy or the network answered.
  }
  return new ApiError("http_error", `the server answered ${response.status} ${response.statusText}`.trim(), response.status);
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.status === 0 ? error.message : `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
