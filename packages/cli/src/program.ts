import { Argument, Command, CommanderError } from "commander";
import { action, printError } from "./action.js";
import { addSandboxCommand } from "./commands/sandbox/sandbox-command.js";
import { addSessionCommands } from "./commands/session/session-command.js";
import { addArtifactCommand } from "./commands/artifact/artifact-command.js";
import { addSnapshotCommand } from "./commands/snapshot/snapshot-command.js";
import { addAccountCommands } from "./commands/account-commands.js";
import { completionShells, type CompletionShell } from "./commands/completion/completion-script.js";
import { addApprovalsAndAuditCommands } from "./commands/approvals/approvals-command.js";
import { addVolumeCommand } from "./commands/volume/volume-command.js";
import { addImageCommand } from "./commands/image/image-command.js";
import type { ServerOptions } from "./commands/server/run.js";
import type { StoreInitOptions } from "./commands/store/init.js";
import type { UsageOptions } from "./commands/usage/report.js";
import { exitStatus, exitStatusHelp } from "./exit-status.js";
import { addHelpExamples } from "./help-examples.js";
import { parsePort } from "./parse/numbers.js";
import { UsageError } from "./usage-error.js";

export const version = "0.1.0";

/**
 * The whole command tree. Each command's module (and the SDK, and the server) is imported only when
 * that command runs, so `ciab --help` and quick commands start fast.
 */
export function createProgram(): Command {
  const program = new Command("ciab")
    .description("Run coding agents in isolated sandboxes.")
    .version(version)
    .option("--url <url>", "server URL (default: $CIAB_URL, then the saved login, then the local server)")
    .option("--token <token>", "API token (default: $CIAB_TOKEN, then the saved login or the local admin token)")
    .option("--data-dir <dir>", "data directory of the local server (default: $CIAB_DATA_DIR, then ./.ciab)")
    .option("--json", "print JSON, errors included")
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(run with --help for usage)")
    // Settings made before the subcommands are inherited by them.
    .exitOverride()
    // With --json an error is one JSON object on stdout (runCli); commander's own lines would only add noise.
    .configureOutput({ writeErr: (text) => (wantsJSON ? undefined : process.stderr.write(text)) });
  program.addHelpText("after", `\n${exitStatusHelp}`);

  program
    .command("server")
    .description("run the control plane in the foreground until SIGINT or SIGTERM")
    .option("--port <port>", "port to listen on (0 picks a free one)", parsePort)
    .option("--host <host>", "address to listen on")
    .option("--config <path>", "config.toml to load")
    .option("--json", "print { url } once listening")
    .action(
      action<ServerOptions>(async (context, args, options) => {
        await (await import("./server-module.js")).prepareServerImport();
        return (await import("./commands/server/run.js")).run(context, args, options);
      }),
    );

  program
    .command("store")
    .description("the control plane's own store (SQLite or DynamoDB, from the server's config)")
    .command("init")
    .description("create the DynamoDB table with its indexes (whatever [store] create_table says), or migrate the SQLite file")
    .option("--config <path>", "config.toml to load")
    .option("--json", "print { driver, location, created }")
    .action(
      action<StoreInitOptions>(async (context, args, options) => {
        await (await import("./server-module.js")).prepareServerImport();
        return (await import("./commands/store/init.js")).init(context, args, options);
      }),
    );

  program
    .command("login")
    .description("check a server URL and token (--url, --token or stdin) and save them for every later command")
    .action(action(async (context) => (await import("./commands/login/login.js")).login(context)));
  program
    .command("logout")
    .description("forget the saved server and token")
    .action(action(async (context) => (await import("./commands/login/login.js")).logout(context)));

  addSandboxCommand(program);
  addSessionCommands(program);
  addArtifactCommand(program);
  addSnapshotCommand(program);
  addAccountCommands(program);
  addApprovalsAndAuditCommands(program);
  addVolumeCommand(program);
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

  program
    .command("budget")
    .description("this workspace's cost in the current clock hour against its hourly cap")
    .option("--json", "print it as JSON")
    .action(action(async (context) => (await import("./commands/budget/status.js")).status(context)));

  program
    .command("completion")
    .addArgument(new Argument("<shell>", "the shell").choices(completionShells))
    .description("print the shell completion script for bash, zsh or fish")
    .action(
      action(async (_context, [shell]) => {
        const { completionScript } = await import("./commands/completion/completion-script.js");
        process.stdout.write(completionScript(shell as CompletionShell, program));
      }),
    );

  addHelpExamples(program);
  return program;
}

/** Whether this run prints JSON, known before commander parses (its own errors come first). */
let wantsJSON = false;

/** Parses argv (as `process.argv`) and runs the command; answers the exit code to end with. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const separator = argv.indexOf("--");
  wantsJSON = (separator === -1 ? argv : argv.slice(0, separator)).includes("--json");
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version end parsing with a CommanderError too.
    if (error.exitCode === 0) return 0;
    if (wantsJSON) printError(new UsageError(error.message.replace(/^error: /, "")), true);
    return exitStatus.usage;
  }
  return typeof process.exitCode === "number" ? process.exitCode : 0;
}
