import { once } from "node:events";
import type { Readable } from "node:stream";
import type { SandboxHandle, StartProcessOptions } from "@ciab/sdk";
import type { CommandContext } from "../../context.js";
import { exitCodeOf } from "../../format/exit-code.js";
import { batchedChunks } from "../../stream/batched-chunks.js";

/** Most stdin bytes per request, well under the server's `stdin_limit_bytes` (16 MiB by default). */
const stdinBatchBytes = 1024 * 1024;

/** Exit status after Ctrl-C, as a shell reports it. */
const interruptedExitCode = 130;

/**
 * `sandbox exec -i`: the command runs as a background process whose output is followed while this
 * process's stdin is sent to it in order, batch by batch, then closed, so `tar c . | ciab sandbox exec -i ID
 * -- tar x` streams without holding the archive in memory. Ctrl-C kills the command.
 */
export async function execWithStdin(
  context: CommandContext,
  sandbox: SandboxHandle,
  command: string | string[],
  options: Pick<StartProcessOptions, "cwd" | "env">,
  input: Readable = process.stdin,
): Promise<number> {
  const started = await sandbox.processes.start(command, options);
  const controller = new AbortController();
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
    void sandbox.processes.signal(started.pid, "SIGKILL").catch(() => undefined);
  };
  process.once("SIGINT", interrupt);
  const sending = sendStdin(sandbox, started.pid, input, controller.signal);
  try {
    for await (const event of sandbox.processes.output(started.pid, { signal: controller.signal })) {
      if (event.type === "exec.output") {
        const target = event.stream === "stderr" ? process.stderr : process.stdout;
        if (!context.sandboxOutput(event.stream).write(event.data)) await once(target, "drain");
      } else if (event.type === "exec.exit") {
        return interrupted ? interruptedExitCode : exitCodeOf(event);
      }
    }
    throw new Error("the output stream ended before the command exited");
  } finally {
    controller.abort();
    process.off("SIGINT", interrupt);
    context.endSandboxOutput();
    input.destroy();
    await sending;
  }
}

/**
 * Sends stdin until it ends, then closes the process's. A command that exits without reading all of it
 * (`head -c 10`) makes a write fail: the rest is dropped, as a pipe to an exited reader would.
 */
async function sendStdin(sandbox: SandboxHandle, pid: number, input: Readable, signal: AbortSignal): Promise<void> {
  try {
    for await (const batch of batchedChunks(input, stdinBatchBytes)) {
      await sandbox.processes.writeStdin(pid, batch, { signal });
    }
    await sandbox.processes.closeStdin(pid, { signal });
  } catch {
    // The exit (or its absence) is reported by the output stream; nothing here can add to it.
  }
}
