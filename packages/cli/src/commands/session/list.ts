import type { Session } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { formatSessionTable } from "../../format/session.js";

export interface SessionListOptions {
  state?: Session["state"];
  limit?: number;
}

/** `ciab session list`. */
export async function list(context: CommandContext, _args: string[], options: SessionListOptions): Promise<void> {
  const ciab = await context.client();
  const sessions = await ciab.sessions.list({ ...(options.state && { state: options.state }), ...(options.limit && { limit: options.limit }) });
  context.print({ sessions }, (value) => formatSessionTable(value.sessions));
}
