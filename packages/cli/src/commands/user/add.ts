import type { CommandContext } from "../../context.js";
import { formatUserWithToken } from "../../format/accounts.js";
import { workspaceOf, type UserOptions } from "./workspace-of.js";

/** `ciab user add NAME`. */
export async function add(context: CommandContext, [name = ""]: string[], options: UserOptions & { role?: "admin" | "member" }): Promise<void> {
  const ciab = await context.client();
  const added = await ciab.workspaces.addUser(await workspaceOf(ciab, options), { name, ...(options.role && { role: options.role }) });
  context.print(added, formatUserWithToken);
}
