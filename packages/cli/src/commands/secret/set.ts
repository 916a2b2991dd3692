import type { CommandContext } from "../../context.js";
import { readSecret } from "../../read-secret.js";
import { UsageError } from "../../usage-error.js";

/** `ciab secret set NAME [--value V]`: the value from --value, else from stdin (so it stays out of shell history). */
export async function set(context: CommandContext, [name = ""]: string[], options: { value?: string }): Promise<void> {
  const value = options.value ?? (await readSecret("value (then Enter): "));
  if (!value) throw new UsageError("give the value on stdin (echo … | ciab secret set NAME) or with --value");
  const ciab = await context.client();
  context.print(await ciab.secrets.set(name, value), (secret) => `set ${secret.name}`);
}
