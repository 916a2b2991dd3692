import type { CommandContext } from "../../context.js";
import { resolveSessionID } from "../../resolve/references.js";

/** `ciab session attach ID`: the agent's terminal; Ctrl-] detaches and leaves the session running. */
export async function attach(context: CommandContext, [id = ""]: string[]): Promise<number> {
  const ciab = await context.client();
  const sessionID = await resolveSessionID(ciab, id);
  const { attachTerminal } = await import("../sandbox/attach.js");
  return attachTerminal((size) => ciab.sessions.attach(sessionID, size), `session ${sessionID}`);
}
