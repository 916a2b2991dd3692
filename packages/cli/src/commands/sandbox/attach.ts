import type { ProcessAttachment } from "@ciab/sdk";
import type { CommandContext } from "../../context.js";
import { exitCodeOf } from "../../format/exit-code.js";
import { splitAtDetachKey } from "../../terminal/detach-key.js";
import { UsageError } from "../../usage-error.js";
import { findSandbox } from "../../resolve/references.js";

/** `ciab sandbox attach ID PID`: the terminal of a running process; Ctrl-] detaches and leaves it running. */
export async function attach(context: CommandContext, [id = "", pidText = ""]: string[]): Promise<number> {
  const pid = Number(pidText);
  if (!/^\d+$/.test(pidText) || pid <= 0) throw new UsageError(`${pidText || "(none)"} is not a process id`);
  const ciab = await context.client();
  const sandbox = await findSandbox(ciab, id);
  return attachTerminal((size) => sandbox.processes.attach(pid, size), `process ${pid}`);
}

/** The local terminal's size, when stdout is one. */
export function terminalSize(): { cols: number; rows: number } | undefined {
  const { columns, rows } = process.stdout;
  return process.stdout.isTTY && columns > 0 && rows > 0 ? { cols: columns, rows } : undefined;
}

/**
 * Joins this terminal to a process: keys go to it raw (the remote pty does echo and line editing), its
 * output comes back, and a local resize becomes a remote one. Answers the process's exit code, or 0 once
 * detached. The terminal is restored whatever happens.
 */
export async function attachTerminal(
  open: (size: { cols?: number; rows?: number }) => Promise<ProcessAttachment>,
  what: string,
): Promise<number> {
  const attachment = await open(terminalSize() ?? {});
  const stdin = process.stdin;
  const rawMode = stdin.isTTY && !stdin.isRaw;
  let detached = false;
  const onInput = (chunk: Buffer): void => {
    const { forward, detach } = splitAtDetachKey(chunk);
    if (forward.length > 0) attachment.write(forward);
    if (detach) {
      detached = true;
      void attachment.close();
    }
  };
  const onResize = (): void => {
    const size = terminalSize();
    if (size) attachment.resize(size.cols, size.rows);
  };
  if (rawMode) stdin.setRawMode(true);
  stdin.on("data", onInput);
  stdin.resume();
  process.on("SIGWINCH", onResize);
  try {
    await pipeOutput(attachment);
    const exit = await attachment.exited.catch(() => undefined);
    if (exit) return exitCodeOf({ ...exit, timed_out: false });
    process.stderr.write(detached ? `\r\n[detached: ${what} keeps running]\r\n` : `\r\n[connection lost: ${what} may still run]\r\n`);
    return detached ? 0 : 1;
  } finally {
    process.off("SIGWINCH", onResize);
    stdin.off("data", onInput);
    stdin.pause();
    if (rawMode) stdin.setRawMode(false);
  }
}

async function pipeOutput(attachment: ProcessAttachment): Promise<void> {
  for await (const chunk of attachment.output) {
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once("drain", resolve));
  }
}
