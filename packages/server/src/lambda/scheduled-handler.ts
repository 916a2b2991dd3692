import { z } from "zod";
import { CiabError } from "@ciab/protocol";
import type { ControlPlane } from "../control-plane.js";
import { budgetPasses, type LoopPass } from "../loops/budget-loops.js";
import { createSandboxLifetimes } from "../loops/sandbox-lifetimes.js";
import { openLambdaControlPlane } from "./lambda-control-plane.js";

/** What one invocation did: each pass's own report, or why it failed or was left out. */
export interface ScheduledReport {
  passes: Record<string, { ok: true; result: unknown } | { ok: false; error: string } | { skipped: string }>;
}

/** An EventBridge schedule's event; a direct invocation may send `{}`. Nothing in it steers the passes. */
const scheduledEventSchema = z.object({ source: z.string().optional(), "detail-type": z.string().optional() });

/** The longest one pass may take, and what is kept back from the invocation's timeout for the report. */
const passLimitMs = 120_000;
const reserveMs = 5_000;

export interface ScheduledHandlerOptions {
  env: NodeJS.ProcessEnv;
}

export interface ScheduledHandler {
  (event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<ScheduledReport>;
  close(): Promise<void>;
}

/**
 * The background loops on Lambda: each invocation of the schedule runs one bounded pass of the reconciler,
 * the sandbox lifetimes and the budget passes, one after another, each within what is left of the
 * invocation. The idle reaper is left out: the traffic it measures is held in memory by whichever process
 * served it, which on Lambda is another container.
 */
export function createScheduledHandler(options: ScheduledHandlerOptions): ScheduledHandler {
  let ready: Promise<ControlPlane> | undefined;
  // Kept across invocations of a warm container: the loops remember which items failed and wait them out.
  const passesByPlane = new WeakMap<ControlPlane, Pick<LoopPass, "name" | "pass">[]>();

  const handler = async (event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<ScheduledReport> => {
    if (!scheduledEventSchema.safeParse(event ?? {}).success) throw new CiabError("invalid_request", "not a scheduled event");
    ready ??= openLambdaControlPlane({ env: options.env }).then(
      ({ plane }) => plane,
      (error: unknown) => {
        ready = undefined;
        throw error;
      },
    );
    const plane = await ready;
    const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? passLimitMs) - reserveMs;
    if (!passesByPlane.has(plane)) passesByPlane.set(plane, passesOf(plane));
    return runPasses(passesByPlane.get(plane)!, deadline);
  };
  return Object.assign(handler, {
    async close() {
      const current = ready;
      ready = undefined;
      if (current) await (await current).close();
    },
  });
}

/**
 * Runs the passes one after another, each within an even share of the time left (at most `passLimitMs`), so one
 * slow pass (a throttled ECS, a workspace with thousands of sandboxes) cannot use up the invocation and leave
 * the budget passes undone every minute. A pass still running when its share ends is reported and left behind.
 */
export async function runPasses(passes: Pick<LoopPass, "name" | "pass">[], deadline: number): Promise<ScheduledReport> {
  const report: ScheduledReport = { passes: {} };
  let left = passes.filter(({ name }) => name !== "idle-reaper").length;
  for (const { name, pass } of passes) {
    if (name === "idle-reaper") {
      report.passes[name] = { skipped: "needs the long-running server: traffic is tracked in the memory of the process that served it" };
      continue;
    }
    const shareMs = Math.min(passLimitMs, Math.floor((deadline - Date.now()) / left--));
    if (shareMs <= 0) {
      report.passes[name] = { skipped: "no time left in this invocation" };
      continue;
    }
    const signal = AbortSignal.timeout(shareMs);
    const abandoned = new Promise<never>((_, reject) =>
      signal.addEventListener("abort", () => reject(new Error(`still running after its share of ${shareMs} ms; left behind`)), { once: true }),
    );
    report.passes[name] = await Promise.race([pass(signal), abandoned]).then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error: String(error) }),
    );
  }
  return report;
}

function passesOf(plane: ControlPlane): Pick<LoopPass, "name" | "pass">[] {
  const { config, store, sandboxes, runner, activity, reconciler } = plane;
  const logger = plane.appDependencies.logger;
  const lifetimes = createSandboxLifetimes({ store, sandboxes, batchSize: config.sandboxes.batch_size, logger: logger.child({ component: "lifetimes" }) });
  return [
    { name: "reconciler", pass: (signal) => reconciler.reconcileOnce(signal) },
    { name: "sandbox-lifetimes", pass: (signal) => lifetimes.checkOnce(signal) },
    ...budgetPasses({ config: config.budget, store, runner, sandboxes, activity, logger: logger.child({ component: "budget" }) }),
  ];
}

/** The Lambda entry point for the EventBridge schedule, configured by CIAB_* variables. */
export const handler = createScheduledHandler({ env: process.env });
