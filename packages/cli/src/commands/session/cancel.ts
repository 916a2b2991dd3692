import type { CommandContext } from "../../context.js";
import { formatSession } from "./get.js";
import { resolveSessionID } from "../../resolve/references.js";

/** `ciab session cancel ID`. */
export async function cancel(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  context.print(await ciab.sessions.cancel(await resolveSessionID(ciab, id)), formatSession);
}
