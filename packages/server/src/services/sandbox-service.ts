import { CiabError, type CreateSandboxRequest, type SandboxState } from "@ciab/protocol";
import { waitForAgent, type AgentClient } from "../agent-channel/agent-client.js";
import type { DataKey } from "../data-key.js";
import { newID } from "../ids.js";
import type { Logger } from "../logger.js";
import type { MachineJob, Runtime, VolumeHandle } from "../runtimes/runtime.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { SandboxRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { ActivityTracker } from "./activity-tracker.js";
import type { AgentConnections } from "./agent-connections.js";
import type { Principal } from "./auth-service.js";
import type { BudgetService } from "./budget-service.js";
import type { Pricing } from "./pricing-service.js";
import { createLifetimeRules, type SandboxLifetimes } from "./sandbox-lifetime-rules.js";
import { createSandboxPersistence, type PersistenceDependencies, type SandboxEnding } from "./sandbox-persistence.js";
import { authorizeSandbox, type SandboxGrant, type SandboxLimits } from "./sandbox-policy.js";
import { createAgentAccess } from "./sandbox-agent-access.js";
import { createMachineQueries } from "./sandbox-machine-queries.js";
import { newSandboxRecord, requireState, RestoreError, startFailure, withoutSecrets } from "./sandbox-record-rules.js";
import { failedMachineRemovalMs } from "./volume-holder.js";

export interface SandboxServiceDependencies extends PersistenceDependencies {
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
  /** `[sandboxes]`: timeouts and the paused retention; the shipped defaults without it. */
  lifetimes?: SandboxLifetimes;
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
  const lifetimes = createLifetimeRules(dependencies.lifetimes);
  const inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** Deletes under way, by sandbox id. */
  const ending = new Map<string, Promise<SandboxRecord>>();
  const { persistenceOf, snapshotBeforeEnd, releaseVolume } = createSandboxPersistence(dependencies);

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
        .destroy(machine, AbortSignal.timeout(failedMachineRemovalMs))
        .catch((error: unknown) => logger.warn({ sandboxID: sandbox.id, err: String(error) }, "cleanup of a failed sandbox"));
    }
    await releaseVolume(sandbox);
    return failed;
  }

  async function provision(
    sandbox: SandboxRecord,
    runtime: Runtime,
    env: Record<string, string>,
    restore: string | undefined,
    volume: VolumeHandle | undefined,
    job: MachineJob | undefined,
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
          ...(volume && { volume }),
          ...(job && { job }),
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
      const ready = await store.sandboxes.update(sandbox.id, {
        state: "ready",
        statusMessage: null,
        readyAt: new Date().toISOString(),
        // Read again: a set-timeout may have landed while the machine started.
        ...lifetimes.running((await store.sandboxes.get(sandbox.workspaceID, sandbox.id)) ?? withMachine),
      });
      logger.info({ sandboxID: sandbox.id, runtime: sandbox.runtime, expiresAt: ready.expiresAt }, "sandbox ready");
    } catch (error) {
      const cause = error instanceof CiabError ? error : new CiabError("runtime_error", String(error), { cause: error });
      if (signal.aborted) return;
      if (error instanceof RestoreError) {
        // The reason is the restore's own code (`insufficient_storage`), so a waiting caller can rethrow it.
        await fail(sandbox, error.cause.code, `restoring the snapshot failed: ${error.cause.message}`, machine);
        return;
      }
      const awsCode = cause.context?.awsCode;
      if (cause.code === "image_not_found" && machine === null) {
        // Nothing was made: the record ends at once instead of waiting in the list for someone to remove it.
        await fail(sandbox, "image_not_found", cause.message, null, typeof awsCode === "string" ? awsCode : undefined);
        await store.sandboxes.update(sandbox.id, { state: "terminated", endReason: "image_not_found", terminatedAt: new Date().toISOString() });
        return;
      }
      const reason = cause.code === "agent_unreachable" || cause.code === "volume_in_use" ? cause.code : "provision_failed";
      await fail(sandbox, reason, cause.message, machine, typeof awsCode === "string" ? awsCode : undefined);
    }
  }

  /** The policy gate for `principal`; every sandbox is made from the grant it returns. */
  function authorize(principal: Principal, request: CreateSandboxRequest): SandboxGrant {
    const limits = dependencies.limits ?? { runtimes: [], images: [] };
    return authorizeSandbox({ runtimes, allowHostNetwork: dependencies.allowHostNetwork ?? false, limits }, principal, request);
  }

  /**
   * The image a grant boots, a built image (`img_…`, asked for or the runtime's default as with
   * `[runtime.ec2] default_ami`) resolved within the grant's workspace: another workspace's id is `not_found`.
   */
  async function resolveImage(grant: SandboxGrant): Promise<string | undefined> {
    const wanted = grant.request.image ?? (grant.runtime.defaultImage.startsWith("img_") ? grant.runtime.defaultImage : undefined);
    if (!wanted?.startsWith("img_") || !dependencies.builtImages) return wanted;
    return dependencies.builtImages.resolve(grant.workspaceID, grant.runtime.name, wanted);
  }

  /**
   * Creates what a grant allows, in the grant's workspace. `signal` abandons a volume claim still waiting for
   * its holder to end: a session cancelled meanwhile gets no sandbox.
   */
  async function createGranted(grant: SandboxGrant, options: { wait: boolean; job?: MachineJob; signal?: AbortSignal }): Promise<SandboxRecord> {
    const { runtime, request, workspaceID } = grant;
    lifetimes.check(request.timeout_secs);
    const persistence = persistenceOf(workspaceID, request);
    if (request.restore !== undefined) {
      if (!dependencies.snapshots) throw new CiabError("capability_unsupported", "this server keeps no snapshots");
      await dependencies.snapshots.check(workspaceID, request.restore);
    }
    const image = await resolveImage(grant);
    const id = newID("sbx");
    // Claimed before the row exists, so a refused volume (another user's, in use) leaves nothing behind.
    const volume =
      persistence === "persistent-volume"
        ? await dependencies.volumes!.acquire({ workspaceID, userID: grant.userID, runtime, volumeID: request.volume, sizeGiB: request.volume_size_gib }, id, options.signal)
        : undefined;
    const env = request.env ?? {};
    const sandbox = newSandboxRecord({
      id,
      grant,
      image: image ?? runtime.defaultImage,
      sealedEnv: dataKey.seal(JSON.stringify(env)),
      envKeys: Object.keys(env).sort(),
      usdPerHour: dependencies.pricing?.usdPerHour(runtime.name, null) ?? 0,
      billsPaused: dependencies.pricing?.billsPaused(runtime.name) ?? true,
      lifetime: lifetimes.initial(request),
      persistence,
      volumeID: volume?.id ?? null,
    });
    // With a budget, the cap check and the insert are one step (parallel creates cannot overshoot the cap).
    const created = dependencies.budget ? dependencies.budget.admit(sandbox) : store.sandboxes.create(sandbox);
    await created.catch(async (error: unknown) => {
      if (volume) await dependencies.volumes!.release(volume.id, id);
      throw error;
    });
    logger.info({ sandboxID: id, workspaceID, runtime: runtime.name, image: sandbox.image, userID: grant.userID }, "sandbox created");
    const controller = new AbortController();
    const handle = volume && { volumeID: volume.id, details: volume.details };
    const done = provision(sandbox, runtime, env, request.restore, handle, options.job, controller.signal).finally(() => inFlight.delete(id));
    inFlight.set(id, { controller, done });
    if (!options.wait) return sandbox;
    await done;
    const result = (await store.sandboxes.get(workspaceID, id))!;
    const failure = startFailure(result);
    if (failure) throw failure;
    return result;
  }

  return {
    get,
    authorize,
    resolveImage,

    create(principal: Principal, request: CreateSandboxRequest, options: { wait: boolean; signal?: AbortSignal }) {
      return createGranted(authorize(principal, request), options);
    },

    createGranted,

    /**
     * A workspace's sandboxes, terminated ones only with `all` or when `states` names them; `tags` keeps
     * those that have every given tag (any value where `value` is absent).
     */
    async list(principal: Principal, options: SandboxListOptions) {
      const states = options.states ?? [];
      const records = await store.sandboxes.list(principal.workspaceID, {
        includeTerminated: options.all || states.includes("terminated"),
        ...(states.length > 0 && { states }),
      });
      const tags = options.tags ?? [];
      return records.filter((record) =>
        tags.every(({ key, value }) => Object.hasOwn(record.tags, key) && (value === undefined || record.tags[key] === value)),
      );
    },

    /**
     * Destroys the sandbox's machine; a `snapshot-on-idle` sandbox that is ready is snapshotted first
     * (bounded: it ends without the snapshot past `finalSnapshots.timeoutMs`). A volume it mounted is freed.
     */
    async delete(principal: Principal, id: string, options: SandboxEnding = {}): Promise<SandboxRecord> {
      const sandbox = await get(principal, id);
      if (sandbox.state === "terminated") return sandbox;
      // A second delete while the first snapshots (the sandbox is still ready then) waits for the first one.
      const running = ending.get(id);
      if (running) return running;
      const done = destroy(sandbox, options).finally(() => ending.delete(id));
      ending.set(id, done);
      return done;
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
      const paused = await store.sandboxes.update(id, { state: "paused", ...lifetimes.paused() });
      logger.info({ sandboxID: id, deleteAfter: paused.deleteAfter }, "sandbox paused");
      return paused;
    },

    async resume(principal: Principal, id: string): Promise<SandboxRecord> {
      const sandbox = await get(principal, id);
      if (sandbox.state === "ready") return sandbox;
      requireState(sandbox, ["paused"], "resume");
      // A machine that costs nothing paused (a stopped instance) starts spending again: new spending, like a new sandbox.
      if (!sandbox.billsPaused) await dependencies.budget?.checkCap(sandbox.workspaceID);
      await runtimes.get(sandbox.runtime).resume(sandbox.machine!, AbortSignal.timeout(60_000));
      await waitForAgent(connections.get(sandbox), { timeoutMs: dependencies.agentReadyTimeoutMs });
      const resumed = await store.sandboxes.update(id, { state: "ready", ...lifetimes.running(sandbox) });
      logger.info({ sandboxID: id, expiresAt: resumed.expiresAt }, "sandbox resumed");
      return resumed;
    },

    /**
     * The sandbox now lives `seconds` from now, and that long after each resume. A paused sandbox is kept
     * at least that long too; one still provisioning gets it when ready.
     */
    async setTimeout(principal: Principal, id: string, seconds: number): Promise<SandboxRecord> {
      lifetimes.check(seconds);
      const sandbox = await get(principal, id);
      requireState(sandbox, ["pending", "provisioning", "ready", "paused"], "set the timeout of");
      return store.sandboxes.update(id, lifetimes.setTimeout(sandbox, seconds));
    },

    /** Moves a ready sandbox's deadline on (a live session holds it: the session's own limits rule). */
    extendLife(sandbox: SandboxRecord): Promise<SandboxRecord> {
      return store.sandboxes.update(sandbox.id, lifetimes.running(sandbox));
    },

    /** Gives a paused sandbox from before lifetimes its deletion deadline. */
    startRetention(sandbox: SandboxRecord): Promise<SandboxRecord> {
      return store.sandboxes.update(sandbox.id, lifetimes.paused());
    },

    ...createMachineQueries(get, runtimes),

    ...createAgentAccess({ get, connections, runtimes, fail, activity: dependencies.activity }),

    persistenceOf,
    isProvisioningHere: (id: string) => inFlight.has(id),
    fail,

    async close() {
      for (const { controller } of inFlight.values()) controller.abort();
      await Promise.allSettled([...inFlight.values()].map((entry) => entry.done));
    },
  };

  async function destroy(sandbox: SandboxRecord, options: SandboxEnding): Promise<SandboxRecord> {
    const { id } = sandbox;
    const pending = inFlight.get(id);
    if (pending) {
      pending.controller.abort();
      await pending.done;
      sandbox = (await store.sandboxes.get(sandbox.workspaceID, id))!;
    }
    const finalSnapshotID = await snapshotBeforeEnd(sandbox, options);
    sandbox = await store.sandboxes.update(id, {
      state: "terminating",
      statusMessage: "destroying machine",
      ...(options.endReason !== undefined && { endReason: options.endReason }),
      ...(finalSnapshotID !== undefined && { finalSnapshotID }),
    });
    connections.drop(id);
    await dependencies.releaseSandbox?.(id).catch(() => undefined);
    if (sandbox.machine) await runtimes.get(sandbox.runtime).destroy(sandbox.machine, AbortSignal.timeout(120_000));
    await releaseVolume(sandbox);
    const terminated = await store.sandboxes.update(id, {
      machine: sandbox.machine && withoutSecrets(sandbox.machine),
      state: "terminated",
      statusMessage: null,
      terminatedAt: new Date().toISOString(),
    });
    logger.info({ sandboxID: id, endReason: terminated.endReason, finalSnapshotID: terminated.finalSnapshotID }, "sandbox deleted");
    return terminated;
  }
}

export type SandboxService = ReturnType<typeof createSandboxService>;
export type { SandboxEnding } from "./sandbox-persistence.js";
export { lostMachineFailure } from "./sandbox-record-rules.js";

export interface SandboxListOptions {
  all: boolean;
  states?: SandboxState[];
  tags?: { key: string; value?: string }[];
}
