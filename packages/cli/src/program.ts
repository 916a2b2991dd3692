import { Command, InvalidArgumentError, Option } from "commander";
import { action } from "./action.js";
import type { CreateOptions } from "./commands/sandbox/create.js";
import type { ExecOptions } from "./commands/sandbox/exec.js";
import type { ListOptions } from "./commands/sandbox/list.js";
import type { ServerOptions } from "./commands/server/run.js";
import { collect } from "./parse/key-value.js";

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
    .action(action<ServerOptions>(async (context, args, options) => (await import("./commands/server/run.js")).run(context, args, options)));

  const sandbox = program.command("sandbox").alias("sbx").description("create, inspect and use sandboxes");

  sandbox
    .command("create")
    .description("create a sandbox and wait until it is ready")
    .addOption(new Option("--runtime <runtime>", "backend to run it on").choices(["local", "docker", "ec2", "fargate"]))
    .option("--image <image>", "image to boot from")
    .option("--name <name>", "a name: lower-case letters, digits and dashes")
    .option("--env <KEY=VALUE>", "environment variable (repeatable)", collect)
    .option("--tag <KEY=VALUE>", "tag (repeatable)", collect)
    .option("--cpus <n>", "CPUs", parsePositiveNumber)
    .option("--memory-mb <n>", "memory limit in MiB", parsePositiveNumber)
    .addOption(new Option("--network <network>", "network of the sandbox").choices(["none", "host"]))
    .option("--json", "print the sandbox as JSON")
    .action(action<CreateOptions>(async (context, args, options) => (await import("./commands/sandbox/create.js")).create(context, args, options)));

  sandbox
    .command("list")
    .alias("ls")
    .description("list sandboxes")
    .option("--all", "include terminated sandboxes")
    .option("--json", "print { sandboxes } as JSON")
    .action(action<ListOptions>(async (context, args, options) => (await import("./commands/sandbox/list.js")).list(context, args, options)));

  sandbox
    .command("get")
    .argument("<id>", "sandbox id")
    .description("show one sandbox")
    .option("--json", "print the sandbox as JSON")
    .action(action(async (context, args) => (await import("./commands/sandbox/get.js")).get(context, args)));

  sandbox
    .command("pause")
    .argument("<id>", "sandbox id")
    .description("pause a sandbox")
    .option("--json", "print the sandbox as JSON")
    .action(action(async (context, args) => (await import("./commands/sandbox/pause.js")).pause(context, args)));

  sandbox
    .command("resume")
    .argument("<id>", "sandbox id")
    .description("resume a paused sandbox")
    .option("--json", "print the sandbox as JSON")
    .action(action(async (context, args) => (await import("./commands/sandbox/resume.js")).resume(context, args)));

  sandbox
    .command("rm")
    .alias("delete")
    .argument("<id...>", "sandbox ids")
    .description("delete sandboxes")
    .option("--json", "print { sandboxes, errors } as JSON")
    .action(action(async (context, args) => (await import("./commands/sandbox/remove.js")).remove(context, args)));

  sandbox
    .command("exec")
    .argument("<id>", "sandbox id")
    .argument("<command...>", "command and arguments after --; a single word runs through the shell")
    .usage("[options] <id> -- <command...>")
    .description("run a command in a sandbox, streaming its output; exits with its exit code")
    .option("--cwd <dir>", "working directory (default: /workspace)")
    .option("--env <KEY=VALUE>", "environment variable (repeatable)", collect)
    .option("--timeout <seconds>", "kill the command after this long (exit code 124)", parsePositiveNumber)
    .option("--json", "wait for the command and print its result as JSON")
    .action(action<ExecOptions>(async (context, args, options) => (await import("./commands/sandbox/exec.js")).exec(context, args, options)));

  sandbox
    .command("cp")
    .argument("<source>", "local path, - for stdin, or ID:/path")
    .argument("<destination>", "local path, - for stdout, or ID:/path")
    .description("copy a file into or out of a sandbox")
    .option("--json", "print the written file as JSON")
    .action(action(async (context, args) => (await import("./commands/sandbox/copy.js")).copy(context, args)));

  return program;
}

/** Parses argv (as `process.argv`) and runs the command; answers the exit code to end with. */
export async function runCli(argv: readonly string[]): Promise<number> {
  await createProgram().parseAsync(argv);
  return typeof process.exitCode === "number" ? process.exitCode : 0;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError("not a port number");
  return port;
}

function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError("not a positive number");
  return number;
}
