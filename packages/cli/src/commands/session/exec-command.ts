import type { CommandContext } from "../../context.js";
import { resolveSessionID } from "../../resolve/references.js";

/** `ciab session exec-command ID`: the line that opens a shell in the session's task with the backend's tools. */
export async function execCommand(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  const session = await ciab.sessions.get(await resolveSessionID(ciab, id));
  if (session.sandbox_id === null) throw new Error(`session ${session.id} has no sandbox yet`);
  const sandbox = await ciab.sandboxes.get(session.sandbox_id);
  context.print(await sandbox.shellCommand(), (shell) => shell.command);
}
