/** The API Lambda: API Gateway v2, function URL and CloudFront-through-function-URL events, answered by createApp. */
export async function handler(_event: unknown): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  return {
    statusCode: 501,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ error: { code: "internal", message: "the API Lambda is not wired yet" } }),
  };
}
