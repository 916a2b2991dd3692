import type { CommandContext } from "../../context.js";
import { sessionRequest, type RunOptions } from "../run/run.js";
import { formatSession } from "./get.js";

/** `ciab session create --provider P [PROMPT]`: starts a session and prints it; follow it with `session logs -f`. */
export async function create(context: CommandContext, [prompt]: string[], options: RunOptions): Promise<void> {
  const ciab = await context.client();
  context.print(await ciab.sessions.create(await sessionRequest(ciab, prompt, options)), formatSession);
}
