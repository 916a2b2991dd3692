export interface FailureBackoffOptions {
  /** The wait after a first failure; it doubles with each failure after. */
  firstMs?: number;
  maxMs?: number;
  now?: () => number;
}

const maxEntries = 10_000;

/**
 * Per-item backoff for the background loops, so that items that keep failing (a machine the backend cannot
 * stop, a row a store refuses) neither end the pass for the items after them nor take every turn of a
 * bounded pass: a failed item sits out a wait that doubles with each failure, and a success forgets it.
 * Held in memory: a restart gives every item a fresh turn, which costs one failure each.
 */
export function createFailureBackoff(options: FailureBackoffOptions = {}) {
  const firstMs = options.firstMs ?? 30_000;
  const maxMs = options.maxMs ?? 30 * 60_000;
  const now = options.now ?? Date.now;
  const failures = new Map<string, { count: number; retryAt: number }>();

  // Loops that never call `keepOnly` (the reconciler's keys span runtimes) stay bounded this way.
  function forgetExpired(): void {
    const at = now();
    for (const [id, entry] of failures) if (entry.retryAt <= at) failures.delete(id);
  }

  return {
    /** Whether the item is sitting out a wait now. */
    waiting(id: string): boolean {
      const entry = failures.get(id);
      return entry !== undefined && entry.retryAt > now();
    },
    /** How many items sit out a wait now: a bounded pass lists this many more to find its batch. */
    waitingCount(): number {
      const at = now();
      let count = 0;
      for (const entry of failures.values()) if (entry.retryAt > at) count += 1;
      return count;
    },
    failed(id: string): void {
      if (failures.size >= maxEntries) forgetExpired();
      const count = (failures.get(id)?.count ?? 0) + 1;
      failures.set(id, { count, retryAt: now() + Math.min(maxMs, firstMs * 2 ** Math.min(count - 1, 30)) });
    },
    succeeded(id: string): void {
      failures.delete(id);
    },
    /** Drops items no longer listed (ended, deleted), so the map holds only what could come back. */
    keepOnly(ids: Iterable<string>): void {
      const kept = new Set(ids);
      for (const id of failures.keys()) if (!kept.has(id)) failures.delete(id);
    },
  };
}

export type FailureBackoff = ReturnType<typeof createFailureBackoff>;
