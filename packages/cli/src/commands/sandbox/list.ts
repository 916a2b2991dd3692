import type { CommandContext } from "../../context.js";
import { formatSandboxTable } from "../../format/sandbox.js";

export interface ListOptions {
  all?: boolean;
}

/** `ciab sandbox list`: a table, or `{ sandboxes }` with `--json`. */
export async function list(context: CommandContext, _args: string[], options: ListOptions): Promise<void> {
  const ciab = await context.client();
  const sandboxes = (await ciab.sandboxes.list({ all: options.all === true })).map((sandbox) => sandbox.info);
  context.print({ sandboxes }, (value) => formatSandboxTable(value.sandboxes));
}
