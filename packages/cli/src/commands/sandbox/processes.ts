import type { CommandContext } from "../../context.js";
import { formatProcessTable } from "../../format/process.js";
import { findSandbox } from "../../resolve/references.js";

/** `ciab sandbox ps ID`: the sandbox's background processes, for `attach` and `exec` users. */
export async function processes(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  const sandbox = await findSandbox(ciab, id);
  const listed = await sandbox.processes.list();
  context.print({ processes: listed }, (value) => formatProcessTable(value.processes));
}
