import type { Logger } from "../logger.js";
import type { ManagedMachine, ManagedVolume, Runtime } from "../runtimes/runtime.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { SandboxRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { liveStates, lostMachineFailure, type SandboxService } from "../services/sandbox-service.js";
import { createFailureBackoff } from "./failure-backoff.js";

export interface ReconcilerDependencies {
  store: Store;
  runtimes: RuntimeRegistry;
  sandboxes: SandboxService;
  logger: Logger;
  orphanGraceMs: number;
  /**
   * A `pending` or `provisioning` row changed within this long is left alone: another process (an API Lambda
   * container) may be provisioning it. 0 where this process is the only one that provisions.
   */
  startingGraceMs?: number;
}

export interface ReconcileReport {
  lost: string[];
  finished: string[];
  orphansDestroyed: string[];
  stateSynced: string[];
  /** Backend volumes labeled ours that no volume row owns, unowned past the grace period: reported, never deleted. */
  unownedVolumes: string[];
}

/**
 * Makes the database and the backends agree. What it destroys comes only from each runtime's own listing,
 * which every runtime builds from what the control plane recorded or labelled (machine files, cgroups it
 * made, container labels it set), never from what runs inside a sandbox; a runtime's listing holds only its
 * own machines, so no runtime's sweep reaps another's.
 * Sandboxes whose machine vanished fail with `machine_lost` (`spot_interrupted` for a spot instance);
 * sandboxes left mid-step by a killed control plane are finished; machines labelled ours that no live
 * sandbox owns are destroyed once they have been seen unowned for the grace period (a machine being
 * provisioned right now is owned by its `provisioning` row, so it is never taken).
 * A sandbox or machine whose step fails is logged and sits out a backoff, and the others are still
 * reconciled; meanwhile its machine counts as owned, so a failure never turns into a destroy.
 */
/** `moved_on`: the row changed since it was listed, so this pass left it (and its machine) alone. */
type ReconcileOutcome = "done" | "moved_on";

export function createReconciler(dependencies: ReconcilerDependencies) {
  const { store, runtimes, sandboxes, logger } = dependencies;
  const unownedSince = new Map<string, number>();
  const backoff = createFailureBackoff();
  const startingGraceMs = dependencies.startingGraceMs ?? 0;
  const startingElsewhere = (sandbox: SandboxRecord) =>
    (sandbox.state === "provisioning" || sandbox.state === "pending") && Date.now() - Date.parse(sandbox.updatedAt) < startingGraceMs;

  async function reconcileRuntime(runtime: Runtime, report: ReconcileReport, signal: AbortSignal): Promise<void> {
    // Rows first, machines second: a sandbox that becomes ready in between is then seen with its machine,
    // never as a ready row whose machine the snapshot missed.
    const live = (await store.sandboxes.listAll({ states: liveStates })).filter((row) => row.runtime === runtime.name);
    const machines = await runtime.listManaged(signal);
    const bySandbox = new Map(machines.map((machine) => [machine.sandboxID, machine]));
    const owners = new Set<string>();

    for (const sandbox of live) {
      if (signal.aborted) return;
      if (sandboxes.isProvisioningHere(sandbox.id) || startingElsewhere(sandbox) || backoff.waiting(sandbox.id)) {
        owners.add(sandbox.id);
        continue;
      }
      const machine = bySandbox.get(sandbox.id);
      try {
        const outcome = await reconcileSandbox(runtime, sandbox, machine, report, signal);
        backoff.succeeded(sandbox.id);
        if (outcome === "moved_on") {
          owners.add(sandbox.id);
          continue;
        }
      } catch (error) {
        backoff.failed(sandbox.id);
        owners.add(sandbox.id);
        logger.warn({ sandboxID: sandbox.id, err: String(error) }, "reconciling a sandbox failed; will try again");
        continue;
      }
      const adopted = machine && (machine.adoptable !== false || sandbox.machine !== null);
      if (adopted && sandbox.state !== "terminating") owners.add(sandbox.id);
    }

    const now = Date.now();
    for (const machine of machines) {
      if (signal.aborted) return;
      // Per runtime: a pid of a local jail and a container id must never share a grace clock.
      const key = `${runtime.name}/${machine.machineID}`;
      if (owners.has(machine.sandboxID)) {
        unownedSince.delete(key);
        continue;
      }
      const since = unownedSince.get(key) ?? now;
      unownedSince.set(key, since);
      if (now - since < dependencies.orphanGraceMs || backoff.waiting(key)) continue;
      try {
        await runtime.destroy(machine, signal);
        backoff.succeeded(key);
      } catch (error) {
        backoff.failed(key);
        logger.warn({ machineID: machine.machineID, err: String(error) }, "destroying an unowned machine failed; will try again");
        continue;
      }
      unownedSince.delete(key);
      report.orphansDestroyed.push(machine.machineID);
      logger.info({ machineID: machine.machineID, sandboxID: machine.sandboxID }, "destroyed an unowned machine");
    }
    if (runtime.listManagedVolumes) await reportUnownedVolumes(runtime, await runtime.listManagedVolumes(signal), report);
  }

  /**
   * A volume holds a user's files, and the labels it is judged by could be stale or wrong, so one without a
   * row is only reported (a warning with its ids): deleting it is a person's call. The grace period spares
   * a volume made a moment ago whose row is not yet written.
   */
  async function reportUnownedVolumes(runtime: Runtime, volumes: ManagedVolume[], report: ReconcileReport): Promise<void> {
    const now = Date.now();
    for (const volume of volumes) {
      const key = `${runtime.name}/volume/${volume.handle}`;
      const owned =
        volume.volumeID !== undefined && volume.workspaceID !== undefined && (await store.volumes.get(volume.workspaceID, volume.volumeID)) !== undefined;
      if (owned) {
        unownedSince.delete(key);
        continue;
      }
      const since = unownedSince.get(key) ?? now;
      unownedSince.set(key, since);
      if (now - since < dependencies.orphanGraceMs) continue;
      report.unownedVolumes.push(volume.handle);
      logger.warn({ runtime: runtime.name, handle: volume.handle, volumeID: volume.volumeID, userID: volume.userID }, "a volume labeled ours has no record; left in place");
    }
  }

  async function reconcileSandbox(
    runtime: Runtime,
    listed: SandboxRecord,
    machine: ManagedMachine | undefined,
    report: ReconcileReport,
    signal: AbortSignal,
  ): Promise<ReconcileOutcome> {
    // The listing may be seconds old on a loaded host: a row listed as provisioning may since have become
    // ready with a machine the listing missed, or failed. Acting on the old state would fail a good sandbox
    // or bring back a failed one, so a row that moved on waits for the next pass.
    const sandbox = await store.sandboxes.get(listed.workspaceID, listed.id);
    if (!sandbox || sandbox.state !== listed.state || sandboxes.isProvisioningHere(sandbox.id)) return "moved_on";
    if (sandbox.state === "terminating") {
      if (machine) await runtime.destroy(machine, signal);
      await store.sandboxes.update(sandbox.id, { state: "terminated", terminatedAt: new Date().toISOString(), statusMessage: null });
      report.finished.push(sandbox.id);
      return "done";
    }
    const unadoptable = machine?.adoptable === false && sandbox.machine === null;
    if (!machine || machine.state === "stopped" || unadoptable) {
      const interrupted = sandbox.state === "provisioning" || sandbox.state === "pending";
      const { reason, message } = interrupted
        ? { reason: "provision_interrupted", message: "the control plane stopped while this sandbox was starting" }
        : lostMachineFailure(sandbox);
      await sandboxes.fail(sandbox, reason, message);
      report.lost.push(sandbox.id);
      return "done";
    }
    const backendState = machine.state === "paused" ? "paused" : "ready";
    if (sandbox.state === "provisioning" || sandbox.state === "pending") {
      // Killed between "machine started" and "agent answered": the machine is there, so finish the step.
      await store.sandboxes.update(sandbox.id, {
        state: backendState,
        machine: sandbox.machine ?? { machineID: machine.machineID, sandboxID: sandbox.id, details: machine.details },
        statusMessage: null,
        readyAt: sandbox.readyAt ?? new Date().toISOString(),
      });
      report.stateSynced.push(sandbox.id);
    } else if (sandbox.state !== backendState) {
      await store.sandboxes.update(sandbox.id, { state: backendState });
      report.stateSynced.push(sandbox.id);
    }
    return "done";
  }

  return {
    async reconcileOnce(signal: AbortSignal = AbortSignal.timeout(120_000)): Promise<ReconcileReport> {
      const report: ReconcileReport = { lost: [], finished: [], orphansDestroyed: [], stateSynced: [], unownedVolumes: [] };
      for (const runtime of runtimes.all()) {
        try {
          await reconcileRuntime(runtime, report, signal);
        } catch (error) {
          logger.warn({ runtime: runtime.name, err: String(error) }, "reconcile failed; will try again");
        }
      }
      return report;
    },

    /** Runs every `intervalMs` until the signal aborts; one pass at a time. */
    start(intervalMs: number, signal: AbortSignal): void {
      if (intervalMs <= 0) return;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        void this.reconcileOnce().finally(() => (running = false));
      }, intervalMs);
      timer.unref();
      let running = false;
      signal.addEventListener("abort", () => clearInterval(timer), { once: true });
    },
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
