import type { CommandContext } from "../../context.js";
import { formatUserTable } from "../../format/accounts.js";
import { workspaceOf, type UserOptions } from "./workspace-of.js";

/** `ciab user list`. */
export async function list(context: CommandContext, _args: string[], options: UserOptions): Promise<void> {
  const ciab = await context.client();
  context.print({ users: await ciab.workspaces.listUsers(await workspaceOf(ciab, options)) }, ({ users }) => formatUserTable(users));
}
