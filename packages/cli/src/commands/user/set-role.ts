import type { CommandContext } from "../../context.js";
import { workspaceOf, type UserOptions } from "./workspace-of.js";

/** `ciab user set-role USER_ID ROLE`. */
export async function setRole(context: CommandContext, [userID = "", role = ""]: string[], options: UserOptions): Promise<void> {
  const ciab = await context.client();
  const user = await ciab.workspaces.setUserRole(await workspaceOf(ciab, options), userID, role === "admin" ? "admin" : "member");
  context.print(user, (changed) => `${changed.id} (${changed.name}) is now ${changed.role}`);
}
