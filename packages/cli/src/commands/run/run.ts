import type { CreateSessionRequest, SessionEvent } from "@ciab/protocol";
import { CiabApiError, type Ciab } from "@ciab/sdk";
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
  persistence?: CreateSessionRequest["persistence"];
  volume?: string;
  volumeSize?: number;
  restore?: string;
  json?: boolean;
  /** An interactive session (no prompt) whose agent's terminal this one joins. */
  interactive?: boolean;
}

/**
 * `ciab run --provider P [--repo URL] "PROMPT"`: starts a headless session, prints its events as they
 * come (raw JSON lines with --json), and exits with the agent's exit code. Ctrl-C, SIGTERM and SIGHUP
 * cancel the session. With `-i`, an interactive session instead (run-interactive.ts).
 */
export async function run(context: CommandContext, [prompt = ""]: string[], options: RunOptions): Promise<number> {
  const ciab = await context.client();
  if (options.interactive && prompt !== "") throw new UsageError("an interactive session takes no prompt: type it to the agent");
  if (!options.interactive && prompt === "") throw new UsageError("no prompt given: write `ciab run --provider P \"PROMPT\"`, or -i");
  const request = await sessionRequest(ciab, prompt === "" ? undefined : prompt, options);
  if (options.interactive) return (await import("./run-interactive.js")).runInteractive(context, ciab, request);
  const session = await ciab.sessions.create(request);
  if (!context.json) process.stderr.write(`session ${session.id}\n`);
  for (const note of session.notes ?? []) process.stderr.write(`note: ${note}\n`);
  // A CI job's timeout sends SIGTERM, a closed terminal SIGHUP: both cancel like Ctrl-C, so no agent is
  // left running. A second signal leaves at once (the cancel has been sent).
  let cancelling: Promise<unknown> | undefined;
  const interrupt = () => {
    if (cancelling) void cancelling.finally(() => process.exit(cancelledExitCode));
    else cancelling = ciab.sessions.cancel(session.id).catch(() => undefined);
  };
  for (const signal of runSignals) process.on(signal, interrupt);
  try {
    await followAcrossOutages(context, ciab, session.id, () => cancelling !== undefined);
  } finally {
    context.endSandboxOutput();
    for (const signal of runSignals) process.off(signal, interrupt);
  }
  await cancelling;
  return sessionExitCode(await ciab.sessions.get(session.id));
}

const runSignals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
/** What a cancelled session exits with (docs/decisions/0027-lifetimes-and-accounts.md). */
const cancelledExitCode = 130;
/** How long `run` waits for a server that went away before giving up (the session goes on regardless). */
const outageLimitMs = 15 * 60_000;

/**
 * Prints the session's events until it ends. When the server goes away, says how to follow the session
 * later and keeps trying (until interrupted, or for `outageLimitMs`); once it is back, the stream resumes after the last event printed (Last-Event-ID).
 */
async function followAcrossOutages(context: CommandContext, ciab: Ciab, sessionID: string, interrupted: () => boolean): Promise<void> {
  let after = 0;
  let lostSince: number | undefined;
  for (let attempt = 0; ; attempt += 1) {
    try {
      for await (const event of ciab.sessions.follow(sessionID, { after, reconnects: 1 })) {
        if (lostSince !== undefined) {
          process.stderr.write(`reconnected to the server; following session ${sessionID} again\n`);
          lostSince = undefined;
          attempt = 0;
        }
        after = event.seq;
        printEvent(context, event);
      }
      return;
    } catch (error) {
      if (error instanceof CiabApiError) throw error;
      lostSince ??= Date.now();
      // Interrupted while the server is away: nothing more can be done from here.
      if (interrupted() || Date.now() - lostSince > outageLimitMs) throw error;
      if (attempt === 0) {
        process.stderr.write(
          `lost the server (${(error as Error).message}); session ${sessionID} goes on there.\n` +
            `Follow it later with \`ciab session logs -f ${sessionID}\`; reconnecting…\n`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * 2 ** Math.min(attempt, 5))));
    }
  }
}

/** The request `ciab run` and `ciab session create` send; no prompt: an interactive session. */
export async function sessionRequest(ciab: Ciab, prompt: string | undefined, options: RunOptions): Promise<CreateSessionRequest> {
  const request: CreateSessionRequest = { provider: options.provider, ...(prompt !== undefined && { prompt }) };
  if (options.repo) request.repo = { url: options.repo, ...(options.ref && { ref: options.ref }) };
  if (options.runtime) request.runtime = options.runtime;
  if (options.image) request.image = options.image;
  if (options.model) request.model = options.model;
  if (options.env?.length) request.env = parseKeyValues(options.env, "--env");
  if (options.sandbox) request.sandbox_id = await resolveSandboxID(ciab, options.sandbox);
  if (options.keep) request.keep_sandbox = true;
  if (options.persistence) request.persistence = options.persistence;
  if (options.volume) request.volume = options.volume;
  if (options.volumeSize !== undefined) request.volume_size_gib = options.volumeSize;
  if (options.restore) request.restore = options.restore;
  return request;
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
