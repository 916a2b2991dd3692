import { CiabError } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { findSandbox } from "../../resolve/references.js";

export interface LogsOptions {
  console?: boolean;
}

/** `ciab sandbox logs --console ID`: the machine's console output (ec2), cleaned of control sequences on a terminal. */
export async function logs(context: CommandContext, [id = ""]: string[], options: LogsOptions): Promise<void> {
  if (options.console !== true) {
    throw new CiabError("invalid_request", "say which logs: --console (the machine's console output) is the one there is");
  }
  const ciab = await context.client();
  const sandbox = await findSandbox(ciab, id);
  const output = await sandbox.consoleOutput();
  context.print({ output }, (value) => value.output.replace(/\n$/, ""));
}
