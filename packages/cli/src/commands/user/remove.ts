import type { CommandContext } from "../../context.js";
import { workspaceOf, type UserOptions } from "./workspace-of.js";

/** `ciab user rm USER_ID`. */
export async function remove(context: CommandContext, [userID = ""]: string[], options: UserOptions): Promise<void> {
  const ciab = await context.client();
  const user = await ciab.workspaces.removeUser(await workspaceOf(ciab, options), userID);
  context.print(user, (removed) => `removed ${removed.id} (${removed.name}); their tokens no longer work`);
}
