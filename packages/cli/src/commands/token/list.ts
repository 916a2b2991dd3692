import type { CommandContext } from "../../context.js";
import { formatTokenTable } from "../../format/accounts.js";

/** `ciab token list`: never the tokens' text. */
export async function list(context: CommandContext): Promise<void> {
  const ciab = await context.client();
  context.print({ tokens: await ciab.tokens.list() }, ({ tokens }) => formatTokenTable(tokens));
}
