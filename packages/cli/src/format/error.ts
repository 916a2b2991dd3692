/** The object `--json` prints for an error: the API's own shape. */
export interface ErrorOutput {
  error: { code: string; message: string; context?: Record<string, unknown> };
}

/** Any thrown value as the API's error shape; errors without a code get `error`. */
export function errorOutput(error: unknown): ErrorOutput {
  if (!(error instanceof Error)) return { error: { code: "error", message: String(error) } };
  const { code, context } = error as { code?: unknown; context?: unknown };
  const output: ErrorOutput = { error: { code: typeof code === "string" ? code : "error", message: error.message } };
  if (typeof context === "object" && context !== null) output.error.context = context as Record<string, unknown>;
  return output;
}

/** `error: <message> (<code>)`, the code left out when there is none. */
export function formatError(error: unknown): string {
  const { error: body } = errorOutput(error);
  return body.code === "error" ? `error: ${body.message}` : `error: ${body.message} (${body.code})`;
}
