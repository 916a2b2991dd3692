import { CiabError, type SandboxState } from "@ciab/protocol";
import { sealedDetailPrefix, type Machine } from "../runtimes/runtime.js";
import type { SandboxRecord } from "../store/records.js";
import type { SandboxGrant } from "./sandbox-policy.js";

/** A failed snapshot restore during provisioning, kept apart from the runtime's own failures. */
export class RestoreError extends Error {
  override readonly cause: CiabError;

  constructor(error: unknown) {
    const cause = error instanceof CiabError ? error : new CiabError("internal", String(error), { cause: error });
    super(cause.message, { cause });
    this.cause = cause;
  }
}

export function requireState(sandbox: SandboxRecord, allowed: SandboxState[], action: string): void {
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
export function withoutSecrets(machine: Machine): Machine {
  const details = Object.fromEntries(Object.entries(machine.details).filter(([key]) => !key.startsWith(sealedDetailPrefix)));
  return { ...machine, details };
}

/** The machine of a sandbox that still has one; `invalid_state` for one that never had or no longer has it. */
export function liveMachineOf(sandbox: SandboxRecord): Machine {
  if (!sandbox.machine || sandbox.state === "terminated") {
    throw new CiabError("invalid_state", `sandbox ${sandbox.id} has no machine (it is ${sandbox.state})`, {
      context: { sandbox_id: sandbox.id, state: sandbox.state },
    });
  }
  return sandbox.machine;
}

/**
 * The error a caller waiting for a sandbox to start gets when it did not: failures the caller can act on keep
 * their own code (another image, a smaller snapshot, the volume once it is free); undefined when it started.
 */
export function startFailure(result: SandboxRecord): CiabError | undefined {
  const { id } = result;
  if (result.endReason === "image_not_found") {
    return new CiabError("image_not_found", result.failureMessage ?? `image ${result.image} not found`, {
      context: { sandbox_id: id, image: result.image, ...(result.failureAWSCode && { aws_code: result.failureAWSCode }) },
    });
  }
  if (result.state === "failed" && (result.failureReason === "insufficient_storage" || result.failureReason === "volume_in_use")) {
    return new CiabError(result.failureReason, `sandbox ${id}: ${result.failureMessage}`, { context: { sandbox_id: id } });
  }
  if (result.state === "failed") {
    return new CiabError("sandbox_failed", `sandbox ${id} failed to start: ${result.failureMessage}`, {
      context: { sandbox_id: id, reason: result.failureReason, ...(result.failureAWSCode && { aws_code: result.failureAWSCode }) },
    });
  }
  return undefined;
}

/** What a new sandbox's row takes besides its grant: decided by the service (image, sealed env, price…). */
export type NewSandboxFields = Pick<SandboxRecord, "id" | "image" | "sealedEnv" | "envKeys" | "usdPerHour" | "billsPaused" | "persistence" | "volumeID"> & {
  grant: SandboxGrant;
  lifetime: Pick<SandboxRecord, "timeoutSeconds" | "onTimeout" | "expiresAt" | "deleteAfter">;
};

/** The row of a sandbox that starts provisioning now. */
export function newSandboxRecord(fields: NewSandboxFields): SandboxRecord {
  const { grant, lifetime, ...decided } = fields;
  const { request } = grant;
  const now = new Date().toISOString();
  return {
    ...decided,
    workspaceID: grant.workspaceID,
    name: request.name ?? fields.id.replace("_", "-").slice(0, 20),
    state: "provisioning",
    runtime: grant.runtime.name,
    network: request.network ?? "none",
    tags: request.tags ?? {},
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
    costUSD: 0,
    meteredSince: now,
    endReason: null,
    ...lifetime,
    finalSnapshotID: null,
  };
}
