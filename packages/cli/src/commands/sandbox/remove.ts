import type { Sandbox, SandboxState } from "@ciab/protocol";
import type { Ciab } from "@ciab/sdk";
import type { CommandContext } from "../../context.js";
import { errorOutput, formatError, type ErrorOutput } from "../../format/error.js";
import { parseTagFilters } from "../../parse/key-value.js";
import { resolveSandboxID } from "../../resolve/references.js";
import { terminalText } from "../../terminal/sandbox-output.js";
import { UsageError } from "../../usage-error.js";

export interface RemoveOptions {
  all?: boolean;
  tag?: string[];
  state?: SandboxState[];
  yes?: boolean;
}

/**
 * `ciab sandbox rm ID...`, or `rm --all --tag K=V` for every live sandbox the filters match (asking
 * nothing: scripts use it; `--all` with no filter needs `--yes`). Deletes each one, going on past failures,
 * prints each one removed; exits 1 if any failed. With `--json`, prints `{ sandboxes, errors }`.
 */
export async function remove(context: CommandContext, references: string[], options: RemoveOptions): Promise<number> {
  const ciab = await context.client();
  const ids = options.all ? await selectAll(ciab, references, options) : references;
  if (ids.length === 0 && !options.all) throw new UsageError("name the sandboxes to remove, or use --all with --tag or --state");
  const sandboxes: Sandbox[] = [];
  const errors: (ErrorOutput["error"] & { id: string })[] = [];
  for (const reference of ids) {
    try {
      const info = await ciab.sandboxes.delete(options.all ? reference : await resolveSandboxID(ciab, reference));
      sandboxes.push(info);
      if (!context.json) process.stdout.write(`${info.id} ${info.state}\n`);
    } catch (error) {
      errors.push({ id: reference, ...errorOutput(error).error });
      if (!context.json) process.stderr.write(terminalText(process.stderr, `${formatError(error)}\n`));
    }
  }
  if (context.json) context.print({ sandboxes, errors }, () => "");
  else if (options.all && ids.length === 0) process.stderr.write("no sandboxes matched\n");
  return errors.length > 0 ? 1 : 0;
}

async function selectAll(ciab: Ciab, references: string[], options: RemoveOptions): Promise<string[]> {
  if (references.length > 0) throw new UsageError("--all takes no sandbox ids: filter with --tag or --state");
  const filtered = (options.tag?.length ?? 0) > 0 || (options.state?.length ?? 0) > 0;
  if (!filtered && !options.yes) {
    throw new UsageError("--all without --tag or --state removes every sandbox of the workspace: add --yes to mean it");
  }
  const sandboxes = await ciab.sandboxes.list({
    ...(options.state?.length && { states: options.state }),
    ...(options.tag?.length && { tags: parseTagFilters(options.tag) }),
  });
  return sandboxes.filter(({ info }) => info.state !== "terminating").map(({ id }) => id);
}
