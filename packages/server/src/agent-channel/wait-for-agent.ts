import { CiabError } from "@ciab/protocol";
import type { AgentClient } from "./agent-client.js";

export interface WaitForAgentOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

const firstDelayMs = 2;
/** Local jails and containers start agentd within a few hundred ms: poll finely until then. */
const fineDelayMs = 10;
const fineForMs = 1_000;
const maxDelayMs = 50;

/**
 * Asks agentd for its health until it answers: a sandbox's agentd is usually up within milliseconds of
 * the machine, so the backoff starts tiny. Rejects with `agent_unreachable` after `timeoutMs`.
 */
export async function waitForAgent(client: AgentClient, options: WaitForAgentOptions): Promise<void> {
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  let delayMs = firstDelayMs;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) break;
    const timeout = AbortSignal.timeout(Math.ceil(remainingMs));
    const attemptSignal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    try {
      await client.health(attemptSignal);
      return;
    } catch (error) {
      options.signal?.throwIfAborted();
      if (error instanceof CiabError && !error.retryable) throw error;
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, Math.max(0, deadline - performance.now()))));
    delayMs = Math.min(delayMs * 2, performance.now() - started < fineForMs ? fineDelayMs : maxDelayMs);
  }
  throw new CiabError("agent_unreachable", `agentd did not answer within ${options.timeoutMs} ms`, {
    cause: lastError,
    retryable: true,
  });
}
