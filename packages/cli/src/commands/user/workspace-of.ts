import type { Ciab } from "@ciab/sdk";

export interface UserOptions {
  workspace?: string;
}

/** `--workspace`, or the workspace of the token in use. */
export async function workspaceOf(ciab: Ciab, options: UserOptions): Promise<string> {
  return options.workspace ?? (await ciab.workspaces.whoami()).workspace_id;
}
