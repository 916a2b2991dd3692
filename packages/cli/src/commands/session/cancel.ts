import type { CommandContext } from "../../context.js";
import { formatSession } from "./get.js";

const finalStates = new Set(["completed", "failed", "cancelled"]);
/** The agent gets SIGTERM, then SIGKILL 5 s later: by then the session has ended. */
const waitMs = 10_000;

/** `ciab session cancel ID`: waits until the session has ended, or says it is still cancelling. */
export async function cancel(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  let session = await ciab.sessions.cancel(id);
  const deadline = Date.now() + waitMs;
  while (!finalStates.has(session.state) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    session = await ciab.sessions.get(id);
  }
  if (!finalStates.has(session.state) && !context.json) {
    process.stderr.write(`session ${id} is cancelling; \`ciab session get ${id}\` shows when it has ended\n`);
  }
  context.print(session, formatSession);
}
