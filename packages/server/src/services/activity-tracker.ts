/**
 * When each sandbox last saw traffic: its agent's output, exec and shell calls, what attached clients type.
 * Reads (a client polling a session's status, listing processes) and the control plane's own health checks
 * are not traffic. Kept in memory only: after a restart the idle reaper counts from its own start, so a
 * restarted control plane gives every session a whole idle period again and never reaps one early.
 */
export interface ActivityTracker {
  touch(sandboxID: string): void;
  /** Milliseconds since the epoch of the last traffic seen by this process, if any. */
  lastSeen(sandboxID: string): number | undefined;
  forget(sandboxID: string): void;
}

/** Beyond this many sandboxes the oldest entries go: the reaper then falls back to the stored timestamps. */
const maximumEntries = 100_000;

export function createActivityTracker(now: () => number = Date.now): ActivityTracker {
  const seen = new Map<string, number>();
  return {
    touch(sandboxID) {
      seen.delete(sandboxID);
      seen.set(sandboxID, now());
      if (seen.size > maximumEntries) seen.delete(seen.keys().next().value!);
    },
    lastSeen: (sandboxID) => seen.get(sandboxID),
    forget(sandboxID) {
      seen.delete(sandboxID);
    },
  };
}
