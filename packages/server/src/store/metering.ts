import type { SandboxState } from "@ciab/protocol";

/**
 * The arithmetic of compute cost, kept pure so it can be tested with any clock. Cost accrues by timestamps:
 * a sandbox that bills carries the start of its open interval (`metered_since`); folding the interval writes
 * its seconds and cost into the hourly ledger and moves the start to now. Nothing is counted in memory, so a
 * restarted control plane loses nothing and counts nothing twice.
 */

const hourMs = 3_600_000;

/** States that hold a machine, so they cost; `paused` costs only where pausing keeps the machine. */
export function billsIn(state: SandboxState, billsPaused: boolean): boolean {
  if (state === "paused") return billsPaused;
  return state === "pending" || state === "provisioning" || state === "ready" || state === "terminating";
}

/** The UTC clock hour of a moment, `YYYY-MM-DDTHH`: sorts as text, and its first 10 characters are the day. */
export function hourKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13);
}

export function hourStart(ms: number): number {
  return Math.floor(ms / hourMs) * hourMs;
}

export interface HourSlice {
  hour: string;
  seconds: number;
  costUSD: number;
}

/** The interval [startMs, endMs) cut at clock hours, each piece priced. Empty when end is not after start. */
export function sliceByHour(startMs: number, endMs: number, usdPerHour: number): HourSlice[] {
  const slices: HourSlice[] = [];
  for (let from = startMs; from < endMs; ) {
    const to = Math.min(endMs, hourStart(from) + hourMs);
    const seconds = (to - from) / 1000;
    slices.push({ hour: hourKey(from), seconds, costUSD: (usdPerHour * seconds) / 3600 });
    from = to;
  }
  return slices;
}

/** Cost of the open interval, as far as it lies at or after `notBeforeMs`. */
export function openCost(meteredSince: string | null, usdPerHour: number, nowMs: number, notBeforeMs = 0): number {
  if (meteredSince === null) return 0;
  const start = Math.max(Date.parse(meteredSince), notBeforeMs);
  return nowMs > start ? (usdPerHour * (nowMs - start)) / hourMs : 0;
}

/** A machine that starts is paid for its first minute whatever happens next (EC2's per-second billing minimum). */
export const minimumBilledSeconds = 60;

/** What a machine created at `createdAt` still owes of its first minute at `nowMs`. */
export function unbilledMinimum(createdAt: string, usdPerHour: number, nowMs: number): number {
  const remaining = minimumBilledSeconds * 1000 - (nowMs - Date.parse(createdAt));
  return remaining > 0 ? (usdPerHour * remaining) / hourMs : 0;
}
