import type { CommandContext } from "../../context.js";
import { formatSession } from "./get.js";
import { resolveSessionID } from "../../resolve/references.js";

/** The agent gets SIGTERM, then SIGKILL 5 s later: by then the session has ended. */
const waitMs = 10_000;

/** `ciab session cancel ID`: waits until the session has ended, or says it is still cancelling. */
export async function cancel(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  const session = await ciab.sessions.cancel(await resolveSessionID(ciab, id), { waitMs });
  if (!["completed", "failed", "cancelled"].includes(session.state) && !context.json) {
    process.stderr.write(`session ${id} is cancelling; \`ciab session get ${id}\` shows when it has ended\n`);
  }
  context.print(session, formatSession);
}
