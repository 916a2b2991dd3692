import type { Command } from "commander";
import { CommandContext, type GlobalOptions } from "./context.js";
import { exitStatusOf } from "./exit-status.js";
import { errorOutput, formatError } from "./format/error.js";
import { terminalText } from "./terminal/sandbox-output.js";

/** A command's body: gets the positional arguments and the merged options; answers the exit code. */
export type ActionBody<Options> = (
  context: CommandContext,
  args: string[],
  options: Options & GlobalOptions,
) => Promise<number | void>;

/**
 * Wraps a command body for commander: builds the context, and turns a thrown error into
 * `error: <message> (<code>)` on stderr (or the error object with `--json`) and ciab's own exit status
 * (exit-status.ts), never 0 or 1.
 */
export function action<Options>(body: ActionBody<Options>): (...received: unknown[]) => Promise<void> {
  return async (...received) => {
    const command = received.at(-1) as Command;
    const options = command.optsWithGlobals<Options & GlobalOptions>();
    const context = new CommandContext(options);
    try {
      process.exitCode = (await body(context, command.args, options)) ?? 0;
    } catch (error) {
      printError(error, context.json);
      process.exitCode = exitStatusOf(error);
    }
  };
}

/** An error as `--json` prints it (on stdout), or as a line on stderr. */
export function printError(error: unknown, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(errorOutput(error), null, 2)}\n`);
  // A message can quote a sandbox (a failed checkout's output, an agent's failure).
  else process.stderr.write(terminalText(process.stderr, `${formatError(error)}\n`));
}
