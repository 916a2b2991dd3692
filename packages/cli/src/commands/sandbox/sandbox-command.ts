import { InvalidArgumentError, Option, type Command } from "commander";
import { action } from "../../action.js";
import { collect } from "../../parse/key-value.js";
import { parsePositiveNumber } from "../../parse/numbers.js";
import { parseDuration } from "../../parse/duration.js";
import { addSetTimeoutCommand } from "./set-timeout-command.js";
import type { CreateOptions } from "./create.js";
import type { ExecOptions } from "./exec.js";
import type { ListOptions } from "./list.js";
import type { LogsOptions } from "./logs.js";
import type { RemoveOptions } from "./remove.js";

/** The states of @ciab/protocol, written out: the command tree is built without loading it, to start fast. */
const sandboxStates = ["pending", "provisioning", "ready", "paused", "terminating", "terminated", "failed"];

function stateOption(description: string): Option {
  return new Option("--state <state>", description).choices(sandboxStates).argParser(collectChoice(sandboxStates));
}

/** A repeatable option whose values are checked against `choices` (commander's own check keeps only the last). */
function collectChoice(choices: readonly string[]) {
  return (value: string, previous: string[] = []): string[] => {
    if (!choices.includes(value)) throw new InvalidArgumentError(`allowed: ${choices.join(", ")}`);
    return [...previous, value];
  };
}

/** Adds `ciab sandbox …` to the program; each verb's module is imported only when it runs. */
export function addSandboxCommand(program: Command): Command {
  const sandbox = program.command("sandbox").alias("sbx").description("create, inspect and use sandboxes");

  sandbox
    .command("create")
    .description("create a sandbox and wait until it is ready")
    .addOption(
      new Option("--runtime <runtime>", "backend to run it on").choices(["local", "docker", "ec2", "fargate"]),
    )
    .option("--image <image>", "image to boot from")
    .option("--name <name>", "a name: lower-case letters, digits and dashes")
    .option("--env <KEY=VALUE>", "environment variable (repeatable)", collect)
    .option("--tag <KEY=VALUE>", "tag (repeatable)", collect)
    .option("--cpus <n>", "CPUs", parsePositiveNumber)
    .option("--memory-mb <n>", "memory limit in MiB", parsePositiveNumber)
    .addOption(new Option("--network <network>", "network of the sandbox").choices(["none", "host"]))
    .option("--timeout <duration>", "how long it lives once ready: seconds or 10s, 5m, 1h (default: the server's)", parseDuration)
    .addOption(new Option("--on-timeout <action>", "what its timeout does (default: the server's)").choices(["pause", "delete"]))
    .addOption(
      new Option("--persistence <mode>", "what happens to /workspace as it ends (the workspace's default otherwise)").choices([
        "ephemeral",
        "snapshot-on-idle",
        "persistent-volume",
      ]),
    )
    .option("--volume <id>", "with --persistence persistent-volume: mount this volume of yours")
    .option("--volume-size <gib>", "with --persistence persistent-volume on ec2: the size of your volume if it is made now", parsePositiveNumber)
    .option("--json", "print the sandbox as JSON")
    .action(
      action<CreateOptions>(async (context, args, options) =>
        (await import("./create.js")).create(context, args, options),
      ),
    );

  sandbox
    .command("list")
    .alias("ls")
    .description("list sandboxes")
    .option("--all", "include terminated sandboxes")
    .option("--tag <KEY=VALUE>", "only sandboxes with this tag; KEY alone for any value (repeatable)", collect)
    .addOption(stateOption("only sandboxes in this state (repeatable)"))
    .option("--json", "print { sandboxes } as JSON")
    .action(
      action<ListOptions>(async (context, args, options) =>
        (await import("./list.js")).list(context, args, options),
      ),
    );

  sandbox
    .command("get")
    .argument("<id>", "sandbox id, name or unique id prefix")
    .description("show one sandbox")
    .option("--json", "print the sandbox as JSON")
    .action(
      action(async (context, args) =>
        (await import("./get.js")).get(context, args),
      ),
    );

  sandbox
    .command("logs")
    .argument("<id>", "sandbox id, name or unique id prefix")
    .description("show what a sandbox's machine printed (--console: its serial console, ec2)")
    .option("--console", "the machine's console output")
    .action(
      action<LogsOptions>(async (context, args, options) =>
        (await import("./logs.js")).logs(context, args, options),
      ),
    );

  sandbox
    .command("pause")
    .argument("<id>", "sandbox id, name or unique id prefix")
    .description("pause a sandbox")
    .option("--json", "print the sandbox as JSON")
    .action(
      action(async (context, args) =>
        (await import("./pause.js")).pause(context, args),
      ),
    );

  sandbox
    .command("resume")
    .argument("<id>", "sandbox id, name or unique id prefix")
    .description("resume a paused sandbox")
    .option("--json", "print the sandbox as JSON")
    .action(
      action(async (context, args) =>
        (await import("./resume.js")).resume(context, args),
      ),
    );

  sandbox
    .command("rm")
    .alias("delete")
    .argument("[id...]", "sandbox ids, names or unique id prefixes")
    .description("delete sandboxes, named or (--all) every one matching --tag and --state")
    .option("--all", "every live sandbox that matches --tag and --state; asks nothing")
    .option("--tag <KEY=VALUE>", "with --all: only sandboxes with this tag (repeatable)", collect)
    .addOption(stateOption("with --all: only sandboxes in this state (repeatable)"))
    .option("--yes", "with --all and no filter: really remove every sandbox of the workspace")
    .option("--json", "print { sandboxes, errors } as JSON")
    .action(
      action<RemoveOptions>(async (context, args, options) =>
        (await import("./remove.js")).remove(context, args, options),
      ),
    );

  sandbox
    .command("ps")
    .argument("<id>", "sandbox id, name or unique id prefix")
    .description("list a sandbox's background processes (the pids `attach` takes)")
    .option("--json", "print { processes } as JSON")
    .action(
      action(async (context, args) =>
        (await import("./processes.js")).processes(context, args),
      ),
    );

  sandbox
    .command("exec")
    .argument("<id>", "sandbox id, name or unique id prefix")
    .argument("<command...>", "command and arguments after --; a single word runs through the shell")
    .usage("[options] <id> -- <command...>")
    .description("run a command in a sandbox, streaming its output; exits with its exit code")
    .option("--cwd <dir>", "working directory (default: /workspace)")
    .option("--env <KEY=VALUE>", "environment variable (repeatable)", collect)
    .option("--timeout <seconds>", "kill the command after this long (exit code 124)", parsePositiveNumber)
    .option("--json", "wait for the command and print its result as JSON")
    .option("-i, --interactive", "send stdin to the command (streamed: `tar c dir | ciab sandbox exec -i ID -- tar x`)")
    .option("-t, --tty", "run on a pseudo-terminal attached to this terminal (Ctrl-] detaches)")
    .action(
      action<ExecOptions>(async (context, args, options) =>
        (await import("./exec.js")).exec(context, args, options),
      ),
    );

  sandbox
    .command("attach")
    .argument("<id>", "sandbox id, name or unique id prefix")
    .argument("<pid>", "process id")
    .description("attach this terminal to a running process; Ctrl-] detaches and leaves it running")
    .action(
      action(async (context, args) =>
        (await import("./attach.js")).attach(context, args),
      ),
    );

  sandbox
    .command("cp")
    .argument("<source>", "local path, - for stdin, or ID:/path")
    .argument("<destination>", "local path, - for stdout, or ID:/path")
    .description("copy a file or a directory (modes and links kept) into or out of a sandbox")
    .option("--json", "print the written file as JSON")
    .action(
      action(async (context, args) =>
        (await import("./copy.js")).copy(context, args),
      ),
    );

  addSetTimeoutCommand(sandbox);
  return sandbox;
}
