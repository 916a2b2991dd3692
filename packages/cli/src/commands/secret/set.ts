import type { CommandContext } from "../../context.js";
import { UsageError } from "../../usage-error.js";

/** `ciab secret set NAME [--value V]`: the value from --value, else from stdin (so it stays out of shell history). */
export async function set(context: CommandContext, [name = ""]: string[], options: { value?: string }): Promise<void> {
  const value = options.value ?? (await readStdin());
  if (!value) throw new UsageError("give the value on stdin (echo … | ciab secret set NAME) or with --value");
  const ciab = await context.client();
  context.print(await ciab.secrets.set(name, value), (secret) => `set ${secret.name}`);
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write("value (then Enter): ");
    for await (const line of (await import("node:readline")).createInterface({ input: process.stdin })) return line;
    return "";
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}
