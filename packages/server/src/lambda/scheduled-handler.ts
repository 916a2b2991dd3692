/** The scheduled Lambda: one bounded pass of each background loop per EventBridge invocation. */
export async function handler(_event: unknown): Promise<{ passes: Record<string, unknown> }> {
  return { passes: {} };
}
