import { CiabError, type CreateSandboxRequest, type SandboxState } from "@ciab/protocol";
import { waitForAgent, type AgentClient } from "../agent-channel/agent-client.js";
import type { DataKey } from "../data-key.js";
import { newID } from "../ids.js";
import type { Logger } from "../logger.js";
import { sealedDetailPrefix, type Machine, type Runtime } from "../runtimes/runtime.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { SandboxRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { ActivityTracker } from "./activity-tracker.js";
import type { AgentConnections } from "./agent-connections.js";
import type { Principal } from "./auth-service.js";
import type { BudgetService } from "./budget-service.js";
import type { Pricing } from "./pricing-service.js";
import { authorizeSandbox, type SandboxGrant, type SandboxLimits } from "./sandbox-policy.js";

export interface SandboxServiceDependencies {
  store: Store;
  runtimes: RuntimeRegistry;
  connections: AgentConnections;
  dataKey: DataKey;
  logger: Logger;
  agentReadyTimeoutMs: number;
  /** `[policy] allow_host_network`: everyone may ask for `network: "host"`; installation admins always may. */
  allowHostNetwork?: boolean;
  /** `[policy]` runtimes, images and resource caps for everyone but installation admins. */
  limits?: SandboxLimits;
  /** Called when a sandbox's machine goes (deleted or failed): frees what others keep for it (its gateway). */
  releaseSandbox?: (sandboxID: string) => Promise<void>;
  /** Prices machines; every sandbox costs 0 without it. */
  pricing?: Pricing;
  /** Refuses new sandboxes of a workspace over its hourly cap. */
  budget?: BudgetService;
  /** Told of traffic into a sandbox (the idle reaper reads it). */
  activity?: ActivityTracker;
  /** Seeds a new sandbox's /workspace from a snapshot (`restore`); without it, `restore` is refused. */
  snapshots?: SnapshotRestorer;
  /** Turns a built image's id (`img_…`) into what the runtime boots (an AMI id, a Docker tag). */
  builtImages?: { resolve(workspaceID: string, runtime: string, image: string): Promise<string> };
}

/** The part of the snapshot service that sandbox creation uses. */
export interface SnapshotRestorer {
  /** `not_found` unless the workspace has the snapshot. */
  check(workspaceID: string, snapshotID: string): Promise<void>;
  /** Unpacks the snapshot into the sandbox behind `agent`. */
  restore(workspaceID: string, snapshotID: string, agent: AgentClient, signal: AbortSignal): Promise<void>;
}

/** States in which a sandbox still owns a machine (or is about to). */
export const liveStates: SandboxState[] = ["pending", "provisioning", "ready", "paused", "terminating"];

/**
 * The sandbox lifecycle: pending → provisioning → ready ⇄ paused → terminating → terminated, or failed with
 * the backend's reason. Every transition is written to the store before the next step, so a control plane
 * killed at any point finds the truth again (loops/reconciler.ts).
 */
export function createSandboxService(dependencies: SandboxServiceDependencies) {
  const { store, runtimes, connections, dataKey, logger } = dependencies;
  const inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();

  async function get(principal: Principal, id: string): Promise<SandboxRecord> {
    const sandbox = await store.sandboxes.get(principal.workspaceID, id);
    if (!sandbox) throw new CiabError("sandbox_not_found", `no sandbox ${id} in this workspace`);
    return sandbox;
  }

  /**
   * Marks the sandbox failed and destroys what is left of its machine: a half-dead machine (a jail whose
   * root died, a container that stopped) is of no use and would otherwise linger until the orphan sweep.
   */
  async function fail(
    sandbox: SandboxRecord,
    reason: string,
    message: string,
    machine: SandboxRecord["machine"] = sandbox.machine,
    awsCode?: string,
  ): Promise<SandboxRecord> {
    connections.drop(sandbox.id);
    await dependencies.releaseSandbox?.(sandbox.id).catch(() => undefined);
    logger.warn({ sandboxID: sandbox.id, reason, message, awsCode }, "sandbox failed");
    const failed = await store.sandboxes.update(sandbox.id, {
      state: "failed",
      failureReason: reason,
      failureMessage: message,
      ...(awsCode !== undefined && { failureAWSCode: awsCode }),
      statusMessage: null,
    });
    if (machine) {
      await runtimes
        .get(sandbox.runtime)
        .destroy(machine, AbortSignal.timeout(60_000))
        .catch((error: unknown) => logger.warn({ sandboxID: sandbox.id, err: String(error) }, "cleanup of a failed sandbox"));
    }
    return failed;
  }

  async function provision(
    sandbox: SandboxRecord,
    runtime: Runtime,
    env: Record<string, string>,
    restore: string | undefined,
    signal: AbortSignal,
  ) {
    const progress = (message: string) => {
      void store.sandboxes.update(sandbox.id, { statusMessage: message }).catch(() => undefined);
    };
    let machine: SandboxRecord["machine"] = null;
    try {
      machine = await runtime.provision(
        {
          sandboxID: sandbox.id,
          workspaceID: sandbox.workspaceID,
          name: sandbox.name,
          image: sandbox.image === runtime.defaultImage ? undefined : sandbox.image,
          env,
          resources: sandbox.resources,
          network: sandbox.network,
        },
        { signal, onProgress: progress },
      );
      const usdPerHour = dependencies.pricing?.usdPerHour(runtime.name, machine) ?? 0;
      const withMachine = await store.sandboxes.update(sandbox.id, {
        machine,
        statusMessage: "starting agent",
        ...(usdPerHour !== sandbox.usdPerHour && { usdPerHour }),
      });
      await waitForAgent(connections.get(withMachine), { timeoutMs: dependencies.agentReadyTimeoutMs, signal });
      if (restore !== undefined) {
        await store.sandboxes.update(sandbox.id, { statusMessage: `restoring ${restore}` });
        await dependencies.snapshots!.restore(sandbox.workspaceID, restore, connections.get(withMachine), signal).catch((error: unknown) => {
          throw new RestoreError(error);
        });
      }
      await store.sandboxes.update(sandbox.id, {
        state: "ready",
        statusMessage: null,
        readyAt: new Date().toISOString(),
      });
    } catch (error) {
      const cause = error instanceof CiabError ? error : new CiabError("runtime_error", String(error), { cause: error });
      if (signal.aborted) return;
      if (error instanceof RestoreError) {
        // The reason is the restore's own code (`insufficient_storage`), so a waiting caller can rethrow it.
        await fail(sandbox, error.cause.code, `restoring the snapshot failed: ${error.cause.message}`, machine);
        return;
      }
      const reason = cause.code === "agent_unreachable" ? "agent_unreachable" : "provision_failed";
      const awsCode = cause.context?.awsCode;
      await fail(sandbox, reason, cause.message, machine, typeof awsCode === "string" ? awsCode : undefined);
    }
  }

  /** The policy gate for `principal`; every sandbox is made from the grant it returns. */
  function authorize(principal: Principal, request: CreateSandboxRequest): SandboxGrant {
    const limits = dependencies.limits ?? { runtimes: [], images: [] };
    return authorizeSandbox({ runtimes, allowHostNetwork: dependencies.allowHostNetwork ?? false, limits }, principal, request);
  }

  /** Creates what a grant allows, in the grant's workspace. */
  async function createGranted(grant: SandboxGrant, options: { wait: boolean }): Promise<SandboxRecord> {
    const { runtime, request, workspaceID } = grant;
    await dependencies.budget?.checkCap(workspaceID);
    if (request.restore !== undefined) {
      if (!dependencies.snapshots) throw new CiabError("capability_unsupported", "this server keeps no snapshots");
      await dependencies.snapshots.check(workspaceID, request.restore);
    }
    const image = request.image?.startsWith("img_") && dependencies.builtImages ? await dependencies.builtImages.resolve(workspaceID, runtime.name, request.image) : request.image;
    const id = newID("sbx");
    const now = new Date().toISOString();
    const env = request.env ?? {};
    const sandbox: SandboxRecord = {
      id,
      workspaceID,
      name: request.name ?? id.replace("_", "-").slice(0, 20),
      state: "provisioning",
      runtime: runtime.name,
      image: image ?? runtime.defaultImage,
      network: request.network ?? "none",
      tags: request.tags ?? {},
      sealedEnv: dataKey.seal(JSON.stringify(env)),
      envKeys: Object.keys(env).sort(),
      resources: request.resources ?? {},
      machine: null,
      failureReason: null,
      failureMessage: null,
      statusMessage: "starting machine",
      createdAt: now,
      updatedAt: now,
      readyAt: null,
      terminatedAt: null,
      userID: grant.userID,
      usdPerHour: dependencies.pricing?.usdPerHour(runtime.name, null) ?? 0,
      billsPaused: dependencies.pricing?.billsPaused(runtime.name) ?? true,
      costUSD: 0,
      meteredSince: now,
      endReason: null,
    };
    await store.sandboxes.create(sandbox);
    const controller = new AbortController();
    const done = provision(sandbox, runtime, env, request.restore, controller.signal).finally(() => inFlight.delete(id));
    inFlight.set(id, { controller, done });
    if (!options.wait) return sandbox;
    await done;
    const result = (await store.sandboxes.get(workspaceID, id))!;
    if (result.state === "failed" && result.failureReason === "insufficient_storage") {
      throw new CiabError("insufficient_storage", `sandbox ${id}: ${result.failureMessage}`, { context: { sandbox_id: id } });
    }
    if (result.state === "failed") {
      throw new CiabError("sandbox_failed", `sandbox ${id} failed to start: ${result.failureMessage}`, {
        context: { sandbox_id: id, reason: result.failureReason, ...(result.failureAWSCode && { aws_code: result.failureAWSCode }) },
      });
    }
    return result;
  }

  return {
    get,
    authorize,

    create(principal: Principal, request: CreateSandboxRequest, options: { wait: boolean }) {
      return createGranted(authorize(principal, request), options);
    },

    createGranted,

    list(principal: Principal, options: { all: boolean }) {
      return store.sandboxes.list(principal.workspaceID, { includeTerminated: options.all });
    },

    /** `endReason` records why the budget ended it (`max_runtime`). */
    async delete(principal: Principal, id: string, options: { endReason?: string } = {}): Promise<SandboxRecord> {
      let sandbox = await get(principal, id);
      if (sandbox.state === "terminated") return sandbox;
      const pending = inFlight.get(id);
      if (pending) {
        pending.controller.abort();
        await pending.done;
        sandbox = await get(principal, id);
      }
      sandbox = await store.sandboxes.update(id, {
        state: "terminating",
        statusMessage: "destroying machine",
        ...(options.endReason !== undefined && { endReason: options.endReason }),
      });
      connections.drop(id);
      await dependencies.releaseSandbox?.(id).catch(() => undefined);
      if (sandbox.machine) await runtimes.get(sandbox.runtime).destroy(sandbox.machine, AbortSignal.timeout(120_000));
      return store.sandboxes.update(id, {
        machine: sandbox.machine && withoutSecrets(sandbox.machine),
        state: "terminated",
        statusMessage: null,
        terminatedAt: new Date().toISOString(),
      });
    },

    async pause(principal: Principal, id: string): Promise<SandboxRecord> {
      const sandbox = await get(principal, id);
      if (sandbox.state === "paused") return sandbox;
      requireState(sandbox, ["ready"], "pause");
      const runtime = runtimes.get(sandbox.runtime);
      if (!runtime.capabilities.pause) throw new CiabError("capability_unsupported", `${runtime.name} cannot pause`);
      await runtime.pause(sandbox.machine!, AbortSignal.timeout(60_000));
      // A frozen agent cannot answer: drop the channel so nothing waits on it.
      connections.drop(id);
      return store.sandboxes.update(id, { state: "paused" });
    },

    async resume(principal: Principal, id: string): Promise<SandboxRecord> {
      const sandbox = await get(principal, id);
      if (sandbox.state === "ready") return sandbox;
      requireState(sandbox, ["paused"], "resume");
      // A machine that costs nothing paused (a stopped instance) starts spending again: new spending, like a new sandbox.
      if (!sandbox.billsPaused) await dependencies.budget?.checkCap(sandbox.workspaceID);
      await runtimes.get(sandbox.runtime).resume(sandbox.machine!, AbortSignal.timeout(60_000));
      await waitForAgent(connections.get(sandbox), { timeoutMs: dependencies.agentReadyTimeoutMs });
      return store.sandboxes.update(id, { state: "ready" });
    },

    /** What the sandbox's machine printed on its console; `capability_unsupported` where the runtime has none. */
    async consoleOutput(principal: Principal, id: string): Promise<string> {
      const sandbox = await get(principal, id);
      const runtime = runtimes.get(sandbox.runtime);
      if (!runtime.capabilities.consoleOutput || !runtime.consoleOutput) {
        throw new CiabError("capability_unsupported", `${runtime.name} sandboxes have no console output`);
      }
      if (!sandbox.machine || sandbox.state === "terminated") {
        throw new CiabError("invalid_state", `sandbox ${id} has no machine (it is ${sandbox.state})`, {
          context: { sandbox_id: id, state: sandbox.state },
        });
      }
      return runtime.consoleOutput(sandbox.machine, AbortSignal.timeout(30_000));
    },

    /**
     * Runs `call` against the sandbox's agent. When the agent cannot be reached, asks the runtime whether
     * the machine still exists; a vanished machine fails the sandbox (`machine_lost`).
     */
    async withAgent<T>(principal: Principal, id: string, call: (agent: AgentClient) => Promise<T>): Promise<T> {
      const sandbox = await get(principal, id);
      requireState(sandbox, ["ready"], "use");
      try {
        return await call(connections.get(sandbox));
      } catch (error) {
        if (error instanceof CiabError && error.code === "agent_unreachable") await failIfMachineLost(sandbox);
        throw error;
      }
    },

    /**
     * Like `withAgent`, for calls that are traffic a person or program sends into the sandbox (exec, shell,
     * stdin, signals): they keep its sessions from being idle.
     */
    async withAgentActive<T>(principal: Principal, id: string, call: (agent: AgentClient) => Promise<T>): Promise<T> {
      const result = await this.withAgent(principal, id, call);
      dependencies.activity?.touch(id);
      return result;
    },

    /** Marks traffic on a sandbox that did not go through `withAgentActive` (output streamed to a client). */
    touch(id: string): void {
      dependencies.activity?.touch(id);
    },

    isProvisioningHere: (id: string) => inFlight.has(id),
    fail,

    async close() {
      for (const { controller } of inFlight.values()) controller.abort();
      await Promise.allSettled([...inFlight.values()].map((entry) => entry.done));
    },
  };

  async function failIfMachineLost(sandbox: SandboxRecord): Promise<void> {
    const managed = await runtimes.get(sandbox.runtime).listManaged(AbortSignal.timeout(30_000));
    if (managed.some((machine) => machine.sandboxID === sandbox.id && machine.state !== "stopped")) return;
    const { reason, message } = lostMachineFailure(sandbox);
    await fail(sandbox, reason, message);
    throw new CiabError("sandbox_failed", `sandbox ${sandbox.id} failed: its machine is gone (${reason})`, {
      context: { sandbox_id: sandbox.id, reason },
    });
  }
}

export type SandboxService = ReturnType<typeof createSandboxService>;

/** A failed snapshot restore during provisioning, kept apart from the runtime's own failures. */
class RestoreError extends Error {
  override readonly cause: CiabError;

  constructor(error: unknown) {
    const cause = error instanceof CiabError ? error : new CiabError("internal", String(error), { cause: error });
    super(cause.message, { cause });
    this.cause = cause;
  }
}

function requireState(sandbox: SandboxRecord, allowed: SandboxState[], action: string): void {
  if (allowed.includes(sandbox.state)) return;
  const hint =
    sandbox.state === "paused"
      ? "resume it first"
      : sandbox.state === "failed"
        ? `it failed: ${sandbox.failureMessage ?? sandbox.failureReason}`
        : `it is ${sandbox.state}`;
  const code = sandbox.state === "provisioning" || sandbox.state === "paused" ? "sandbox_not_ready" : "invalid_state";
  throw new CiabError(code, `cannot ${action} sandbox ${sandbox.id}: ${hint}`, {
    context: { sandbox_id: sandbox.id, state: sandbox.state },
  });
}

/**
 * Why a sandbox whose machine vanished failed. A spot instance that AWS takes back is terminated outside
 * ciab like any other lost machine; its sandbox's spot flag (from the runtime's own details, never from the
 * machine) is what tells them apart, so a session can retry it once (session-runner.ts).
 */
export function lostMachineFailure(sandbox: SandboxRecord): { reason: "machine_lost" | "spot_interrupted"; message: string } {
  if (sandbox.machine?.details.spot === true) {
    return { reason: "spot_interrupted", message: "the sandbox's spot instance was terminated outside ciab (spot interruption)" };
  }
  return { reason: "machine_lost", message: "the sandbox's machine disappeared outside ciab" };
}

/** A destroyed machine keeps its ids (for history and cost) but none of its sealed secrets. */
function withoutSecrets(machine: Machine): Machine {
  const details = Object.fromEntries(Object.entries(machine.details).filter(([key]) => !key.startsWith(sealedDetailPrefix)));
  return { ...machine, details };
}
