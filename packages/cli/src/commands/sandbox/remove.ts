import type { Sandbox } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { errorOutput, formatError, type ErrorOutput } from "../../format/error.js";
import { terminalText } from "../../terminal/sandbox-output.js";
import { resolveSandboxID } from "../../resolve/references.js";

/**
 * `ciab sandbox rm ID...`: deletes each one, going on past failures; exits 1 if any failed. With
 * `--json`, prints `{ sandboxes, errors }`.
 */
export async function remove(context: CommandContext, ids: string[]): Promise<number> {
  const ciab = await context.client();
  const sandboxes: Sandbox[] = [];
  const errors: (ErrorOutput["error"] & { id: string })[] = [];
  for (const id of ids) {
    try {
      const info = await ciab.sandboxes.delete(await resolveSandboxID(ciab, id));
      sandboxes.push(info);
      if (!context.json) process.stdout.write(`${info.id} ${info.state}\n`);
    } catch (error) {
      errors.push({ id, ...errorOutput(error).error });
      if (!context.json) process.stderr.write(terminalText(process.stderr, `${formatError(error)}\n`));
    }
  }
  if (context.json) context.print({ sandboxes, errors }, () => "");
  return errors.length > 0 ? 1 : 0;
}
