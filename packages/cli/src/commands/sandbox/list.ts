import type { SandboxState } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { formatSandboxTable } from "../../format/sandbox.js";
import { parseTagFilters } from "../../parse/key-value.js";

export interface ListOptions {
  all?: boolean;
  tag?: string[];
  state?: SandboxState[];
}

/** `ciab sandbox list [--tag K=V] [--state S]`: a table, or `{ sandboxes }` with `--json`. */
export async function list(context: CommandContext, _args: string[], options: ListOptions): Promise<void> {
  const ciab = await context.client();
  const sandboxes = (
    await ciab.sandboxes.list({
      all: options.all === true,
      ...(options.state?.length && { states: options.state }),
      ...(options.tag?.length && { tags: parseTagFilters(options.tag) }),
    })
  ).map((sandbox) => sandbox.info);
  context.print({ sandboxes }, (value) => formatSandboxTable(value.sandboxes));
}
