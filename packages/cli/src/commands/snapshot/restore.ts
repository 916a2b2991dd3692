import type { RuntimeName } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";

/** `ciab snapshot restore ID [--runtime R]`: a new sandbox whose /workspace starts as the snapshot's. */
export async function restore(context: CommandContext, [id = ""]: string[], options: { runtime?: RuntimeName }): Promise<void> {
  const ciab = await context.client();
  const sandbox = await ciab.sandboxes.create({ restore: id, ...(options.runtime !== undefined && { runtime: options.runtime }) });
  context.print(sandbox.info, (info) => `${info.id} restored from ${id}`);
}
