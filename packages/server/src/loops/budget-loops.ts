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
}

/** Starts cost accrual always, and the max-runtime killer and idle reaper when their limits are set. */
export function startBudgetLoops(dependencies: BudgetLoopDependencies, signal: AbortSignal): void {
  const { config, store, logger } = dependencies;
  const passTimeoutMs = 120_000;
  const accrual = createCostAccrual(store);
  startIntervalLoop(
    { name: "cost-accrual", intervalMs: config.accrual_interval_seconds * 1000, signal, passTimeoutMs, logger },
    (passSignal) => accrual.accrueOnce(passSignal),
  );
  const enforceMs = config.enforce_interval_seconds * 1000;
  if (config.max_runtime_minutes !== undefined) {
    const killer = createMaxRuntimeKiller({ ...dependencies, maxRuntimeMs: config.max_runtime_minutes * 60_000 });
    startIntervalLoop({ name: "max-runtime", intervalMs: enforceMs, signal, passTimeoutMs, logger }, (passSignal) =>
      killer.killOnce(passSignal),
    );
  }
  if (config.idle_timeout_seconds !== undefined) {
    const reaper = createIdleReaper({ ...dependencies, idleTimeoutMs: config.idle_timeout_seconds * 1000 });
    startIntervalLoop({ name: "idle-reaper", intervalMs: enforceMs, signal, passTimeoutMs, logger }, (passSignal) =>
      reaper.reapOnce(passSignal),
    );
  }
}
