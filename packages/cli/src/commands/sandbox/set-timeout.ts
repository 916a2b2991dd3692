import type { CommandContext } from "../../context.js";
import { formatSandboxSummary } from "../../format/sandbox.js";
import { parseDuration } from "../../parse/duration.js";

/** `ciab sandbox set-timeout ID DURATION`. */
export async function setTimeout(context: CommandContext, [id = "", duration = ""]: string[]): Promise<void> {
  const seconds = parseDuration(duration);
  const ciab = await context.client();
  context.print(await ciab.sandboxes.setTimeout(id, seconds), formatSandboxSummary);
}
