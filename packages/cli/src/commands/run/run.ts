import type { CreateSessionRequest, SessionEvent } from "@ciab/protocol";
import type { CommandContext } from "../../context.js";
import { formatEvent, sessionExitCode } from "../../format/event.js";
import { parseKeyValues } from "../../parse/key-value.js";
import { terminalText } from "../../terminal/sandbox-output.js";
import { resolveSandboxID } from "../../resolve/references.js";
import { UsageError } from "../../usage-error.js";

export interface RunOptions {
  provider: CreateSessionRequest["provider"];
  repo?: string;
  ref?: string;
  runtime?: CreateSessionRequest["runtime"];
  image?: string;
  model?: string;
  env?: string[];
  sandbox?: string;
  keep?: boolean;
  json?: boolean;
  /** An interactive session (no prompt) whose agent's terminal this one joins. */
  interactive?: boolean;
}

/**
 * `ciab run --provider P [--repo URL] "PROMPT"`: starts a headless session, prints its events as they
 * come (raw JSON lines with --json), and exits with the agent's exit code. Ctrl-C cancels the session.
 * With `-i`, an interactive session instead (run-interactive.ts).
 */
export async function run(context: CommandContext, [prompt = ""]: string[], options: RunOptions): Promise<number> {
  const ciab = await context.client();
  if (options.interactive && prompt !== "") throw new UsageError("an interactive session takes no prompt: type it to the agent");
  if (!options.interactive && prompt === "") throw new UsageError("no prompt given: write `ciab run --provider P \"PROMPT\"`, or -i");
  const request: CreateSessionRequest = { provider: options.provider, ...(prompt !== "" && { prompt }) };
  if (options.repo) request.repo = { url: options.repo, ...(options.ref && { ref: options.ref }) };
  if (options.runtime) request.runtime = options.runtime;
  if (options.image) request.image = options.image;
  if (options.model) request.model = options.model;
  if (options.env?.length) request.env = parseKeyValues(options.env, "--env");
  if (options.sandbox) request.sandbox_id = await resolveSandboxID(ciab, options.sandbox);
  if (options.keep) request.keep_sandbox = true;
  if (options.interactive) return (await import("./run-interactive.js")).runInteractive(context, ciab, request);
  const session = await ciab.sessions.create(request);
  if (!context.json) process.stderr.write(`session ${session.id}\n`);
  const interrupt = () => void ciab.sessions.cancel(session.id).catch(() => undefined);
  process.once("SIGINT", interrupt);
  try {
    for await (const event of ciab.sessions.follow(session.id)) printEvent(context, event);
  } finally {
    context.endSandboxOutput();
    process.off("SIGINT", interrupt);
  }
  return sessionExitCode(await ciab.sessions.get(session.id));
}

/**
 * One event for the user: raw JSON with `--json` (escaped by construction); otherwise the agent's output and
 * our lines about it, which quote the agent, cleaned of control sequences when they go to a terminal.
 */
export function printEvent(context: CommandContext, event: SessionEvent): void {
  if (context.json) {
    process.stdout.write(`${JSON.stringify(event)}\n`);
    return;
  }
  if (event.type === "shell.output") {
    context.sandboxOutput(event.data.stream === "stderr" ? "stderr" : "stdout").write(Buffer.from(String(event.data.data), "base64"));
    return;
  }
  const line = formatEvent(event);
  if (line) process.stdout.write(terminalText(process.stdout, `${line}\n`));
}
