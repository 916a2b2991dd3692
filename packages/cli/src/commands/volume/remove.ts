import type { CommandContext } from "../../context.js";

/** `ciab volume rm ID`. */
export async function remove(context: CommandContext, [id = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  await ciab.volumes.delete(id);
  context.print({ deleted: id }, () => `deleted ${id}`);
}
