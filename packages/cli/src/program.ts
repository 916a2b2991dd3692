import { Command } from "commander";
import { action } from "./action.js";
import { addSandboxCommand } from "./commands/sandbox/sandbox-command.js";
import { addSessionCommands } from "./commands/session/session-command.js";
import { addArtifactCommand } from "./commands/artifact/artifact-command.js";
import { addSnapshotCommand } from "./commands/snapshot/snapshot-command.js";
import { addImageCommand } from "./commands/image/image-command.js";
import type { ServerOptions } from "./commands/server/run.js";
import type { UsageOptions } from "./commands/usage/report.js";
import { parsePort } from "./parse/numbers.js";

export const version = "0.1.0";

/**
 * The whole command tree. Each command's module (and the SDK, and the server) is imported only when
 * that command runs, so `ciab --help` and quick commands start fast.
 */
export function createProgram(): Command {
  const program = new Command("ciab")
    .description("Run coding agents in isolated sandboxes.")
    .version(version)
    .option("--url <url>", "server URL (default: $CIAB_URL, then the local server)")
    .option("--token <token>", "API token (default: $CIAB_TOKEN, then the local admin token)")
    .option("--data-dir <dir>", "data directory of the local server (default: $CIAB_DATA_DIR, then ./.ciab)")
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("server")
    .description("run the control plane in the foreground until SIGINT or SIGTERM")
    .option("--port <port>", "port to listen on (0 picks a free one)", parsePort)
    .option("--host <host>", "address to listen on")
    .option("--config <path>", "config.toml to load")
    .option("--json", "print { url } once listening")
    .action(
      action<ServerOptions>(async (context, args, options) =>
        (await import("./commands/server/run.js")).run(context, args, options),
      ),
    );

  addSandboxCommand(program);
  addSessionCommands(program);
  addArtifactCommand(program);
  addSnapshotCommand(program);
  addImageCommand(program);

  program
    .command("usage")
    .description("machine time and cost by workspace, user, runtime and day (admins see every workspace)")
    .option("--from <day>", "first UTC day, YYYY-MM-DD (default: 30 days before --to)")
    .option("--to <day>", "last UTC day, YYYY-MM-DD (default: today)")
    .option("--group-by <keys>", "comma-separated: workspace,user,runtime,day (default: all)")
    .option("--workspace <id>", "admins: only this workspace")
    .option("--json", "print the report as JSON")
    .action(
      action<UsageOptions>(async (context, args, options) => (await import("./commands/usage/report.js")).report(context, args, options)),
    );

  return program;
}

/** Parses argv (as `process.argv`) and runs the command; answers the exit code to end with. */
export async function runCli(argv: readonly string[]): Promise<number> {
  await createProgram().parseAsync(argv);
  return typeof process.exitCode === "number" ? process.exitCode : 0;
}
