import type { FailureBackoff } from "./failure-backoff.js";

/** How one item's turn in a pass went; `running`: the pass stopped waiting, the work carries on. */
export type AttemptOutcome = "done" | "failed" | "running" | "skipped";

export interface ItemAttemptsOptions {
  /**
   * How long a pass waits on one item before it goes on to the next; by default until the work is over (a
   * Lambda invocation must not return with work under way).
   */
  itemWaitMs?: number | undefined;
  /** Logs a failure; the item then sits out its backoff. */
  onFailure(id: string, error: unknown): void;
}

/**
 * One item's work in a loop's pass, so that no item holds the others: an item sitting out a backoff or whose
 * earlier work still runs is skipped, a failure backs off, and a pass waits at most `itemWaitMs` on an item
 * (a sandbox whose final snapshot its hostile agentd drags out to the snapshot timeout), letting the work carry
 * on and settle its backoff itself.
 */
export function createItemAttempts(backoff: FailureBackoff, options: ItemAttemptsOptions) {
  const itemWaitMs = options.itemWaitMs ?? Number.POSITIVE_INFINITY;
  const running = new Set<string>();

  return {
    /** Whether the item's earlier work still runs. */
    busy: (id: string): boolean => running.has(id),
    /** How many items' work carries on past its pass. */
    runningCount: (): number => running.size,
    async attempt(id: string, work: () => Promise<unknown>): Promise<AttemptOutcome> {
      if (running.has(id) || backoff.waiting(id)) return "skipped";
      running.add(id);
      const settled = (async (): Promise<AttemptOutcome> => {
        try {
          await work();
          backoff.succeeded(id);
          return "done";
        } catch (error) {
          backoff.failed(id);
          options.onFailure(id, error);
          return "failed";
        } finally {
          running.delete(id);
        }
      })();
      if (!Number.isFinite(itemWaitMs)) return settled;
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<AttemptOutcome>((resolve) => (timer = setTimeout(() => resolve("running"), itemWaitMs)));
      const outcome = await Promise.race([settled, waited]);
      clearTimeout(timer);
      return outcome;
    },
  };
}
