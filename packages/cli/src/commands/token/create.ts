import type { CommandContext } from "../../context.js";
import { formatCreatedToken } from "../../format/accounts.js";

export interface TokenCreateOptions {
  role?: "admin" | "member";
  expires?: number;
}

/** `ciab token create NAME`. */
export async function create(context: CommandContext, [name = ""]: string[], options: TokenCreateOptions): Promise<void> {
  const ciab = await context.client();
  const token = await ciab.tokens.create({
    name,
    ...(options.role && { role: options.role }),
    ...(options.expires !== undefined && { expires_in_secs: options.expires }),
  });
  context.print(token, formatCreatedToken);
}
