import type { CommandContext } from "../../context.js";

/** `ciab secret rm NAME`. */
export async function remove(context: CommandContext, [name = ""]: string[]): Promise<void> {
  const ciab = await context.client();
  await ciab.secrets.delete(name);
  context.print({ deleted: name }, () => `deleted ${name}`);
}
