import type { BudgetConfig } from "../config/config-schema.js";
import type { Logger } from "../logger.js";
import type { ActivityTracker } from "../services/activity-tracker.js";
import type { SandboxService } from "../services/sandbox-service.js";
import type { SessionRunner } from "../services/session-runner.js";
import type { Store } from "../store/store.js";
import { createCostAccrual } from "./cost-accrual.js";
import { createIdleReaper } from "./idle-reaper.js";
import { startIntervalLoop } from "./interval-loop.js";
import { createMaxRuntimeKiller } from "./max-runtime-killer.js";

export interface BudgetLoopDependencies {
  config: BudgetConfig;
  store: Store;
  runner: SessionRunner;
  sandboxes: SandboxService;
  activity: ActivityTracker;
  logger: Logger;
  /** How long a pass waits on one end before going on (item-attempts.ts); by default until it is over. */
  itemWaitMs?: number | undefined;
}

export interface LoopPass {
  name: string;
  intervalMs: number;
  pass(signal: AbortSignal): Promise<unknown>;
}

/** Cost accrual always, and the max-runtime killer and idle reaper when their limits are set. */
export function budgetPasses(dependencies: BudgetLoopDependencies): LoopPass[] {
  const { config, store } = dependencies;
  const accrual = createCostAccrual(store, undefined, dependencies.logger);
  const passes: LoopPass[] = [
    { name: "cost-accrual", intervalMs: config.accrual_interval_seconds * 1000, pass: (signal) => accrual.accrueOnce(signal) },
  ];
  const enforceMs = config.enforce_interval_seconds * 1000;
  if (config.max_runtime_minutes !== undefined) {
    const killer = createMaxRuntimeKiller({ ...dependencies, maxRuntimeMs: config.max_runtime_minutes * 60_000 });
    passes.push({ name: "max-runtime", intervalMs: enforceMs, pass: (signal) => killer.killOnce(signal) });
  }
  if (config.idle_timeout_seconds !== undefined) {
    const reaper = createIdleReaper({ ...dependencies, idleTimeoutMs: config.idle_timeout_seconds * 1000 });
    passes.push({ name: "idle-reaper", intervalMs: enforceMs, pass: (signal) => reaper.reapOnce(signal) });
  }
  return passes;
}

/** Runs each of the budget passes on its own interval until the signal aborts. */
export function startBudgetLoops(dependencies: BudgetLoopDependencies, signal: AbortSignal): void {
  const { logger } = dependencies;
  // A pass goes on past an end that takes long (a final snapshot), so one tenant's sessions hold no other's.
  for (const { name, intervalMs, pass } of budgetPasses({ itemWaitMs: 10_000, ...dependencies })) {
    startIntervalLoop({ name, intervalMs, signal, passTimeoutMs: 120_000, logger }, pass);
  }
}
