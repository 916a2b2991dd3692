import type { CommandContext } from "../../context.js";
import { formatWorkspaceTable } from "../../format/accounts.js";

/** `ciab workspace list`: the first 1000, by id. */
export async function list(context: CommandContext): Promise<void> {
  const ciab = await context.client();
  context.print({ workspaces: await ciab.workspaces.list({ limit: 1000 }) }, ({ workspaces }) => formatWorkspaceTable(workspaces));
}
