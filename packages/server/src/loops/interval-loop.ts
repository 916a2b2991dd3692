import type { Logger } from "../logger.js";

export interface IntervalLoopOptions {
  name: string;
  intervalMs: number;
  /** Stops the loop; a pass in progress is aborted too. */
  signal: AbortSignal;
  /** The longest a pass may take before its own signal aborts it. */
  passTimeoutMs: number;
  logger: Logger;
}

/** Runs `pass` every `intervalMs` on one timer, one pass at a time, until the signal aborts. */
export function startIntervalLoop(options: IntervalLoopOptions, pass: (signal: AbortSignal) => Promise<unknown>): void {
  const { signal, logger } = options;
  if (options.intervalMs <= 0 || signal.aborted) return;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    const passSignal = AbortSignal.any([signal, AbortSignal.timeout(options.passTimeoutMs)]);
    void pass(passSignal)
      .catch((error: unknown) => logger.warn({ loop: options.name, err: String(error) }, "loop pass failed; will try again"))
      .finally(() => (running = false));
  }, options.intervalMs);
  timer.unref();
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
