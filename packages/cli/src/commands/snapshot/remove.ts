import type { CommandContext } from "../../context.js";

/** `ciab snapshot rm ID`. */
export async function remove(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  await ciab.snapshots.delete(id);
  context.print({ deleted: id }, () => `deleted ${id}`);
}
