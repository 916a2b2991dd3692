import { once } from "node:events";
import type { ExecRequestBody } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { exitCodeOf } from "../../format/exit-code.js";
import { parseKeyValues } from "../../parse/key-value.js";
import { UsageError } from "../../usage-error.js";
import { findSandbox } from "../../resolve/references.js";

export interface ExecOptions {
  cwd?: string;
  env?: string[];
  /** Seconds. */
  timeout?: number;
  /** Run on a pseudo-terminal and attach this terminal to it. */
  tty?: boolean;
  /** Send this process's stdin to the command. */
  interactive?: boolean;
}

/** Size of the remote terminal when this one has none (output to a pipe). */
const defaultTerminalSize = { cols: 80, rows: 24 };

/** Exit status after Ctrl-C, as a shell reports it. */
const interruptedExitCode = 130;

/**
 * `ciab sandbox exec ID -- CMD ARGS...`: several words run as argv, a single one through the shell.
 * Output is streamed as it comes (on a terminal, cleaned of control sequences but colour: the sandbox is not
 * trusted with the user's terminal); `--json` runs to completion and prints the result. Either way the
 * exit status is the command's. `--tty` runs it on a pseudo-terminal attached to this one (Ctrl-] detaches);
 * `--interactive` streams stdin to it.
 */
export async function exec(
  context: CommandContext,
  [id = "", ...words]: string[],
  options: ExecOptions,
): Promise<number> {
  const [first] = words;
  if (first === undefined) throw new UsageError("no command given: write `ciab sandbox exec ID -- CMD ARGS...`");
  const request: Omit<ExecRequestBody, "command"> = {
    cwd: options.cwd,
    env: options.env?.length ? parseKeyValues(options.env, "--env") : undefined,
    timeout_ms: options.timeout === undefined ? undefined : Math.round(options.timeout * 1000),
  };
  const command = words.length === 1 ? first : words;
  const ciab = await context.client();
  const sandbox = await findSandbox(ciab, id);
  if (options.tty) {
    if (request.timeout_ms !== undefined) throw new UsageError("--timeout does not apply with --tty");
    const { attachTerminal, terminalSize } = await import("./attach.js");
    const started = await sandbox.processes.start(command, {
      ...(request.cwd !== undefined && { cwd: request.cwd }),
      ...(request.env !== undefined && { env: request.env }),
      pty: terminalSize() ?? defaultTerminalSize,
    });
    return attachTerminal((size) => sandbox.processes.attach(started.pid, size), `process ${started.pid}`);
  }
  if (options.interactive) {
    if (request.timeout_ms !== undefined) throw new UsageError("--timeout does not apply with --interactive");
    if (context.json) throw new UsageError("--json does not apply with --interactive: its output is streamed");
    const { execWithStdin } = await import("./exec-stdin.js");
    return execWithStdin(context, sandbox, command, {
      ...(request.cwd !== undefined && { cwd: request.cwd }),
      ...(request.env !== undefined && { env: request.env }),
    });
  }
  if (context.json) {
    const result = await sandbox.commands.run(command, request);
    context.print(result, () => "");
    return exitCodeOf(result);
  }
  const controller = new AbortController();
  const interrupt = (): void => controller.abort();
  process.once("SIGINT", interrupt);
  try {
    for await (const event of sandbox.commands.stream(command, { ...request, signal: controller.signal })) {
      if (event.type === "exec.output") {
        const target = event.stream === "stderr" ? process.stderr : process.stdout;
        if (!context.sandboxOutput(event.stream).write(event.data)) await once(target, "drain");
      } else if (event.type === "exec.exit") {
        return exitCodeOf(event);
      }
    }
    throw new Error("the output stream ended before the command exited");
  } catch (error) {
    if (controller.signal.aborted) return interruptedExitCode;
    throw error;
  } finally {
    context.endSandboxOutput();
    process.off("SIGINT", interrupt);
  }
}
