import { Option, type Command } from "commander";
import { action } from "../../action.js";
import { collect } from "../../parse/key-value.js";
import { parsePositiveNumber } from "../../parse/numbers.js";
import type { RunOptions } from "../run/run.js";
import type { LogsOptions } from "./logs.js";
import type { SessionListOptions } from "./list.js";

const providers = ["claude-code", "codex", "pi", "gemini-cli", "opencode", "shell"];
const states = ["pending", "starting", "running", "idle", "completed", "failed", "cancelled"];
const persistenceModes = ["ephemeral", "snapshot-on-idle", "persistent-volume"];

/** The options of a new session's agent and sandbox, shared by `ciab run` and `ciab session create`. */
function sessionOptions(command: Command): Command {
  return command
    .addOption(new Option("--provider <provider>", "the agent").choices(providers).makeOptionMandatory())
    .option("--repo <url>", "repository to clone into /workspace")
    .option("--ref <ref>", "branch, tag or commit of --repo")
    .addOption(new Option("--runtime <runtime>", "runtime of the session's sandbox").choices(["local", "docker", "ec2", "fargate"]))
    .option("--image <image>", "image of the session's sandbox")
    .option("--model <model>", "model to ask the agent to use")
    .option("--env <KEY=VALUE>", "environment variable for the agent (repeatable)", collect)
    .option("--sandbox <id>", "run in this existing sandbox")
    .option("--keep", "keep the session's sandbox afterwards")
    .addOption(new Option("--persistence <mode>", "what happens to /workspace as the sandbox ends (the workspace's default otherwise)").choices(persistenceModes))
    .option("--volume <id>", "with --persistence persistent-volume: mount this volume of yours")
    .option("--volume-size <gib>", "with --persistence persistent-volume on ec2: the size of your volume if it is made now", parsePositiveNumber)
    .option("--restore <snapshot>", "seed /workspace from this snapshot");
}

/** Adds `ciab run`, `ciab session …` and `ciab secret …`; each verb's module loads only when it runs. */
export function addSessionCommands(program: Command): void {
  sessionOptions(
    program
      .command("run")
      .argument("[prompt]", "what the agent should do (none with -i)")
      .description("run an agent headless on a prompt, print its events, exit with its exit code; -i: interactively")
      .option("-i, --interactive", "start the agent's own TUI and attach this terminal (Ctrl-] detaches)"),
  )
    .option("--json", "print the raw events, one JSON object per line")
    .action(action<RunOptions>(async (context, args, options) => (await import("../run/run.js")).run(context, args, options)));

  const session = program.command("session").alias("ses").description("inspect and control agent sessions");
  sessionOptions(
    session
      .command("create")
      .argument("[prompt]", "what the agent should do (headless); none: an interactive session to attach to")
      .description("start a session without following it"),
  )
    .option("--json", "print the session as JSON")
    .action(action<RunOptions>(async (context, args, options) => (await import("./create.js")).create(context, args, options)));
  session
    .command("list")
    .alias("ls")
    .description("list sessions, newest first")
    .addOption(new Option("--state <state>", "only sessions in this state").choices(states))
    .option("--limit <n>", "at most this many", parsePositiveNumber)
    .option("--json", "print { sessions } as JSON")
    .action(action<SessionListOptions>(async (context, args, options) => (await import("./list.js")).list(context, args, options)));
  session
    .command("get")
    .argument("<id>", "session id")
    .description("show one session")
    .option("--json", "print the session as JSON")
    .action(action(async (context, args) => (await import("./get.js")).get(context, args)));
  session
    .command("logs")
    .argument("<id>", "session id")
    .description("print a session's events")
    .option("-f, --follow", "keep printing live events until the session ends")
    .option("--after <seq>", "only events after this sequence number", parsePositiveNumber)
    .option("--json", "print the raw events, one JSON object per line")
    .action(action<LogsOptions>(async (context, args, options) => (await import("./logs.js")).logs(context, args, options)));
  session
    .command("exec-command")
    .argument("<id>", "session id")
    .description("print the backend's own command for a shell in the session's machine (fargate: aws ecs execute-command)")
    .option("--json", "print { argv, command } as JSON")
    .action(action(async (context, args) => (await import("./exec-command.js")).execCommand(context, args)));
  session
    .command("ports")
    .argument("<id>", "session id")
    .description("list ports listening in a session's sandbox, with signed preview URLs")
    .option("--json", "print { ports } as JSON")
    .action(action(async (context, args) => (await import("./ports.js")).ports(context, args)));
  session
    .command("cancel")
    .argument("<id>", "session id")
    .description("stop a session's agent and wait until the session has ended")
    .option("--json", "print the session as JSON")
    .action(action(async (context, args) => (await import("./cancel.js")).cancel(context, args)));

  session
    .command("attach")
    .argument("<id>", "session id")
    .description("attach this terminal to an interactive session (Ctrl-] detaches)")
    .action(action(async (context, args) => (await import("./attach.js")).attach(context, args)));

  const secret = program.command("secret").description("workspace secrets (model API keys…); values are never shown");
  secret
    .command("set")
    .argument("<name>", "e.g. ANTHROPIC_API_KEY")
    .description("set a secret from stdin (or --value)")
    .option("--value <value>", "the value (prefer stdin: it stays out of shell history)")
    .option("--json", "print the result as JSON")
    .action(action<{ value?: string }>(async (context, args, options) => (await import("../secret/set.js")).set(context, args, options)));
  secret
    .command("list")
    .alias("ls")
    .description("list secret names")
    .option("--json", "print { secrets } as JSON")
    .action(action(async (context) => (await import("../secret/list.js")).list(context)));
  secret
    .command("rm")
    .alias("delete")
    .argument("<name>", "secret name")
    .description("delete a secret")
    .option("--json", "print the result as JSON")
    .action(action(async (context, args) => (await import("../secret/remove.js")).remove(context, args)));
}
