import type { CommandContext } from "../../context.js";

/** `ciab token revoke ID`. */
export async function revoke(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  context.print(await ciab.tokens.revoke(id), (token) => `revoked ${token.id} (${token.name})`);
}
