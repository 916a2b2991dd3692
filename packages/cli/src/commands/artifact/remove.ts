import type { CommandContext } from "../../context.js";

/** `ciab artifact rm ID`. */
export async function remove(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  await ciab.artifacts.delete(id);
  context.print({ deleted: id }, () => `deleted ${id}`);
}
