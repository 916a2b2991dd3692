import type { CommandContext } from "../../context.js";
import { formatSandboxSummary } from "../../format/sandbox.js";
import { findSandbox } from "../../resolve/references.js";

/** `ciab sandbox resume ID`. */
export async function resume(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  const sandbox = await findSandbox(ciab, id);
  context.print(await sandbox.resume(), formatSandboxSummary);
}
