import type { CommandContext } from "../../context.js";
import { resolveOptionReferences } from "../../resolve/references.js";
import { formatSnapshotTable } from "../../format/artifact.js";
import { UsageError } from "../../usage-error.js";

/** `ciab snapshot create (--session ID | --sandbox ID) [--label L]`. */
export async function create(context: CommandContext, _args: string[], given: { session?: string; sandbox?: string; label?: string }): Promise<void> {
  if ((given.session === undefined) === (given.sandbox === undefined)) throw new UsageError("give exactly one of --session and --sandbox");
  const ciab = await context.client();
  const options = await resolveOptionReferences(ciab, given);
  const source = options.session !== undefined ? { sessionID: options.session } : { sandboxID: options.sandbox! };
  const snapshot = await ciab.snapshots.create(source, options.label !== undefined ? { label: options.label } : {});
  context.print(snapshot, (value) => formatSnapshotTable([value]));
}
