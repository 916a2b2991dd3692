import { execFile } from "node:child_process";
import { promisify } from "node:util";

export const execFileAsync = promisify(execFile);

/** Runs `call` `warmup` times unmeasured, then `iterations` times, answering each duration in ms. */
export async function measure(iterations: number, call: () => Promise<unknown>, warmup = 5): Promise<number[]> {
  for (let index = 0; index < warmup; index += 1) await call();
  const samples: number[] = [];
  for (let index = 0; index < iterations; index += 1) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return samples;
}

export function percentile(samples: number[], fraction: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

/** Prints a readable line per side, then the one-line JSON contract: the last line of every benchmark. */
export function report(name: string, ours: number[], baseline: number[], notes: Record<string, unknown> = {}): void {
  const round = (value: number) => Math.round(value * 100) / 100;
  for (const [label, samples] of [["ours", ours], ["baseline", baseline]] as const) {
    console.log(
      `${name} ${label}: p50 ${round(percentile(samples, 0.5))} ms, p90 ${round(percentile(samples, 0.9))} ms (n=${samples.length})`,
    );
  }
  const oursP50 = round(percentile(ours, 0.5));
  const baselineP50 = round(percentile(baseline, 0.5));
  console.log(
    JSON.stringify({
      name,
      ours_p50_ms: oursP50,
      baseline_p50_ms: baselineP50,
      ratio: baselineP50 > 0 ? round(oursP50 / baselineP50) : null,
      ...notes,
    }),
  );
}
