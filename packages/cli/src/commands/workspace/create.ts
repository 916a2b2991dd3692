import type { CommandContext } from "../../context.js";
import { formatUserWithToken } from "../../format/accounts.js";

export interface WorkspaceCreateOptions {
  userName?: string;
  role?: "admin" | "member";
}

/** `ciab workspace create NAME`. */
export async function create(context: CommandContext, [name = ""]: string[], options: WorkspaceCreateOptions): Promise<void> {
  const ciab = await context.client();
  const created = await ciab.workspaces.create({
    name,
    ...(options.userName && { user_name: options.userName }),
    ...(options.role && { role: options.role }),
  });
  context.print(created, formatUserWithToken);
}
