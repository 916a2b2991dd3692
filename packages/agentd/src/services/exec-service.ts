import type { Readable } from "node:stream";
import { execCaptureLimitBytes, type ExecRequest, type ExecResult } from "../protocol.js";
import type { CommandRun, CommandRunner } from "./command-runner.js";

/** One-shot commands: spawn, feed stdin, capture or hand back the output, kill on timeout or abort. */
export class ExecService {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  /** Starts the command; resolves once it is running (or rejects with `command_not_found`). */
  async start(request: ExecRequest, signal?: AbortSignal): Promise<CommandRun> {
    const run = await this.#runner.spawn({
      command: request.command,
      cwd: request.cwd,
      env: request.env,
      stdin: request.stdin === undefined ? "ignore" : "pipe",
      timeoutMs: request.timeoutMs,
    });
    if (request.stdin !== undefined) run.stdin?.end(request.stdin);
    if (signal) {
      const onAbort = (): void => void run.kill("SIGKILL");
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        void run.exited.then(() => signal.removeEventListener("abort", onAbort));
      }
    }
    return run;
  }

  /** Runs to the end and captures stdout and stderr up to the capture limit each. */
  async run(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult> {
    const run = await this.start(request, signal);
    const stdout = capture(run.stdout);
    const stderr = capture(run.stderr);
    const exit = await run.exited;
    return {
      exitCode: exit.exitCode,
      signal: exit.signal,
      stdout: stdout.text(),
      stderr: stderr.text(),
      timedOut: exit.timedOut,
      durationMs: exit.durationMs,
      truncated: stdout.truncated || stderr.truncated,
    };
  }
}

interface Capture {
  readonly truncated: boolean;
  text(): string;
}

function capture(stream: Readable): Capture {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  stream.on("data", (chunk: Buffer) => {
    if (size >= execCaptureLimitBytes) {
      truncated = true;
      return; // keep reading so the command does not block on a full pipe
    }
    const room = execCaptureLimitBytes - size;
    if (chunk.length > room) {
      truncated = true;
      chunk = chunk.subarray(0, room);
    }
    chunks.push(chunk);
    size += chunk.length;
  });
  return {
    get truncated() {
      return truncated;
    },
    text: () => (size === 0 ? "" : Buffer.concat(chunks, size).toString("utf8")),
  };
}
