import type { Duplex } from "node:stream";
import { CiabError } from "@ciab/protocol";

export interface PollOptions {
  timeoutMs: number;
  signal: AbortSignal;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Calls `attempt` until it returns a value (not undefined), waiting longer between attempts, until
 * `timeoutMs`; then calls `onTimeout` for the error to throw. Errors from `attempt` end the wait.
 */
export async function pollUntil<T>(
  attempt: (signal: AbortSignal) => Promise<T | undefined>,
  options: PollOptions,
  onTimeout: () => Error,
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  let delayMs = options.firstDelayMs ?? 250;
  for (;;) {
    options.signal.throwIfAborted();
    const result = await attempt(options.signal);
    if (result !== undefined) return result;
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) throw onTimeout();
    await sleep(Math.min(delayMs, remainingMs), options.signal);
    delayMs = Math.min(delayMs * 2, options.maxDelayMs ?? 5_000);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Opens agent streams until one opens (then closes it), retrying the retryable failures until `timeoutMs`;
 * then `agent_unreachable` saying that `what` did not answer, with the last failure as its cause.
 */
export async function waitForAgentStream(connect: () => Promise<Duplex>, options: { timeoutMs: number; signal: AbortSignal; what: string }): Promise<void> {
  let lastError: unknown;
  await pollUntil(
    async () => {
      try {
        (await connect()).destroy();
        return true;
      } catch (error) {
        if (!(error instanceof CiabError) || !error.retryable) throw error;
        lastError = error;
        return undefined;
      }
    },
    { timeoutMs: options.timeoutMs, signal: options.signal, firstDelayMs: 250, maxDelayMs: 1_000 },
    () => new CiabError("agent_unreachable", `${options.what} did not answer within ${options.timeoutMs / 1000} s`, { cause: lastError, retryable: true }),
  );
}
