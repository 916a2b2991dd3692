/** The admin-only provisioning Lambda, invoked by name. */
export async function handler(_event: unknown): Promise<{ error: { code: string; message: string } }> {
  return { error: { code: "internal", message: "the provisioning Lambda is not wired yet" } };
}
