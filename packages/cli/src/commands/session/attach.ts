import type { CommandContext } from "../../context.js";

/** `ciab session attach ID`: the agent's terminal; Ctrl-] detaches and leaves the session running. */
export async function attach(context: CommandContext, [id = ""]: string[]): Promise<number> {
  const ciab = await context.client();
  const { attachTerminal } = await import("../sandbox/attach.js");
  return attachTerminal((size) => ciab.sessions.attach(id, size), `session ${id}`);
}
