import type { CommandContext } from "../../context.js";
import { formatSandboxSummary } from "../../format/sandbox.js";
import { findSandbox } from "../../resolve/references.js";

/** `ciab sandbox pause ID`. */
export async function pause(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  const sandbox = await findSandbox(ciab, id);
  context.print(await sandbox.pause(), formatSandboxSummary);
}
