import type { CommandContext } from "../../context.js";
import { resolveOptionReferences } from "../../resolve/references.js";
import { formatSnapshotTable } from "../../format/artifact.js";

/** `ciab snapshot list [--sandbox ID] [--session ID]`. */
export async function list(context: CommandContext, _args: string[], given: { session?: string; sandbox?: string }): Promise<void> {
  const ciab = await context.client();
  const options = await resolveOptionReferences(ciab, given);
  const page = await ciab.snapshots.list({
    ...(options.session !== undefined && { sessionID: options.session }),
    ...(options.sandbox !== undefined && { sandboxID: options.sandbox }),
  });
  context.print(page, ({ snapshots, next }) => formatSnapshotTable(snapshots) + (next ? `\nmore: --after ${next}` : ""));
}
