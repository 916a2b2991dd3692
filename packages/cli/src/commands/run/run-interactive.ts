import { setTimeout as sleep } from "node:timers/promises";
import type { CreateSessionRequest, Session } from "@ciab/protocol";
import type { Ciab } from "@ciab/sdk";
import type { CommandContext } from "../../context.js";
import { sessionExitCode } from "../../format/event.js";

/** Between two looks at a starting session. */
const pollIntervalMs = 250;
/** Longest wait for the agent to start (installing it, cloning the repository) before giving up. */
const startTimeoutMs = 15 * 60 * 1000;

const finalStates = new Set<Session["state"]>(["completed", "failed", "cancelled"]);

/**
 * `ciab run -i --provider P`: starts an interactive session (no prompt), waits for its agent, and joins this
 * terminal to the agent's TUI. Ctrl-] detaches and leaves the agent running (`ciab session attach` comes
 * back); the agent exiting ends the command with its exit code.
 */
export async function runInteractive(context: CommandContext, ciab: Ciab, request: CreateSessionRequest): Promise<number> {
  const created = await ciab.sessions.create(request);
  process.stderr.write(`session ${created.id}\n`);
  const session = await waitForAgent(ciab, created.id);
  if (finalStates.has(session.state)) {
    process.stderr.write(`the session ended before its agent could be attached (${session.state})\n`);
    return sessionExitCode(session);
  }
  const { attachTerminal } = await import("../sandbox/attach.js");
  const code = await attachTerminal((size) => ciab.sessions.attach(created.id, size), `session ${created.id}`);
  const after = await ciab.sessions.get(created.id);
  if (!finalStates.has(after.state)) {
    process.stderr.write(`detached; the agent runs on: \`ciab session attach ${created.id}\` to come back\n`);
    return 0;
  }
  context.endSandboxOutput();
  return code;
}

async function waitForAgent(ciab: Ciab, id: string): Promise<Session> {
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    const session = await ciab.sessions.get(id);
    if (session.state !== "pending" && session.state !== "starting") return session;
    if (Date.now() > deadline) throw new Error(`session ${id} did not start in ${startTimeoutMs / 60_000} minutes`);
    await sleep(pollIntervalMs);
  }
}
