import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import { z } from "zod";
import { CiabError } from "@ciab/protocol";
import { createAgentClient } from "../../agent-channel/agent-client.js";
import type { Logger } from "../../logger.js";
import { machineLabels, type Machine, type VolumeHandle, type VolumeSpec } from "../runtime.js";
import type { EBSAPI, EBSVolumeSummary } from "./ebs-client.js";
import type { EC2RuntimeConfig } from "./ec2-runtime-config.js";
import { awsCall, awsErrorCode } from "./ec2-errors.js";
import { agentdUnitName, instanceWorkspace } from "./instance-layout.js";
import { pollUntil } from "./poll.js";
import { workspaceMountScript, workspaceUnmountScript } from "./workspace-mount-script.js";

/** The one device a sandbox's volume is attached at; the instance may name it /dev/xvdf or /dev/nvme1n1. */
export const volumeDevice = "/dev/sdf";

/** DetachVolume's answers when there is nothing left to detach: the volume, or its instance, is gone or free. */
const detachedAlready = new Set(["IncorrectState", "InvalidAttachment.NotFound", "InvalidVolume.NotFound", "InvalidInstanceID.NotFound"]);

/** What the store keeps of an EBS volume (`VolumeRecord.details`). */
const ebsDetailsSchema = z.object({
  ebsVolumeID: z.string().regex(/^vol-[0-9a-f]+$/),
  region: z.string().min(1),
  availabilityZone: z.string().min(1),
  sizeGB: z.number().int().positive(),
});

export type EBSDetails = z.infer<typeof ebsDetailsSchema>;

export function ebsDetails(volume: VolumeHandle): EBSDetails {
  const parsed = ebsDetailsSchema.safeParse(volume.details);
  if (!parsed.success) throw new CiabError("internal", `volume ${volume.volumeID} has no usable ec2 details: ${parsed.error.message}`);
  return parsed.data;
}

const attachedVolumeSchema = z.object({ ebsVolumeID: z.string().regex(/^vol-[0-9a-f]+$/), device: z.string() });

/** The volume a machine attached at provision, from its details; none for machines the reconciler listed. */
export function attachedVolume(machine: Machine): z.infer<typeof attachedVolumeSchema> | undefined {
  const parsed = attachedVolumeSchema.safeParse(machine.details.volume);
  return parsed.success ? parsed.data : undefined;
}

export interface InstanceVolumeOptions {
  config: EC2RuntimeConfig;
  installationID: string;
  logger: Logger;
}

/**
 * EBS volumes as persistent work dirs (docs/decisions/0040-ebs-persistent-volumes.md): made in a zone the
 * instance then launches in, attached after launch, mounted at /workspace through agentd, detached before
 * the instance goes. Who may attach a volume is decided by the store, never here.
 */
export class InstanceVolumes {
  constructor(private readonly options: InstanceVolumeOptions) {}

  async create(api: EBSAPI, settings: EC2RuntimeConfig, spec: VolumeSpec, signal: AbortSignal): Promise<EBSDetails> {
    const zone = await awsCall(settings.subnet_id === undefined ? "DescribeAvailabilityZones" : "DescribeSubnets", () => api.availabilityZone(settings.subnet_id, signal), settings.region);
    if (zone === undefined) throw new CiabError("runtime_error", `no availability zone found in ${settings.region} for an EBS volume`);
    const tags = {
      ...settings.tags,
      Name: `ciab-${spec.volumeID}`,
      [machineLabels.managed]: "true",
      [machineLabels.installationID]: this.options.installationID,
      [machineLabels.workspaceID]: spec.workspaceID,
      [machineLabels.userID]: spec.userID,
      [machineLabels.volumeID]: spec.volumeID,
    };
    const clientToken = `${spec.volumeID}.${randomBytes(6).toString("hex")}`.slice(-64);
    // EBS sizes are GiB; the request's size was bounded by the service against the workspace's maximum.
    const sizeGB = spec.sizeGiB ?? settings.volume_size_gb;
    const created = await awsCall("CreateVolume", () => api.createVolume({ availabilityZone: zone, sizeGB, tags, clientToken }, signal), settings.region);
    try {
      await this.#waitFor(api, created.volumeID, (volume) => volume.state === "available", "available", signal);
    } catch (error) {
      await awsCall("DeleteVolume", () => api.deleteVolume(created.volumeID, AbortSignal.timeout(30_000))).catch(() => undefined);
      throw error;
    }
    return { ebsVolumeID: created.volumeID, region: settings.region, availabilityZone: zone, sizeGB: created.sizeGB || sizeGB };
  }

  /** Deletes an available volume; gone already is fine; attached anywhere is `volume_in_use`. */
  async delete(api: EBSAPI, volume: VolumeHandle, signal: AbortSignal): Promise<void> {
    const { ebsVolumeID, region } = ebsDetails(volume);
    const found = await awsCall("DescribeVolumes", () => api.describeVolume(ebsVolumeID, signal), region);
    if (found === undefined || found.state === "deleting" || found.state === "deleted") return;
    if (found.state !== "available") {
      throw new CiabError("volume_in_use", `EBS volume ${ebsVolumeID} of ${volume.volumeID} is ${found.state}; it is deleted only once detached`, {
        context: { volume_id: volume.volumeID, ebsVolumeID },
      });
    }
    await awsCall("DeleteVolume", () => api.deleteVolume(ebsVolumeID, signal), region).catch((error: unknown) => {
      if (awsErrorCode((error as CiabError).cause) !== "InvalidVolume.NotFound") throw error;
    });
  }

  /** AttachVolume, then waits until EC2 says attached; a volume elsewhere or in another zone is AWS's typed refusal. */
  async attach(api: EBSAPI, details: EBSDetails, instanceID: string, signal: AbortSignal): Promise<void> {
    await awsCall("AttachVolume", () => api.attachVolume(details.ebsVolumeID, instanceID, volumeDevice, signal), details.region);
    await this.#waitFor(api, details.ebsVolumeID, (volume) => volume.attachment?.instanceID === instanceID && volume.attachment.state === "attached", "attached", signal);
  }

  /** Formats a blank volume and mounts it at /workspace, as root through agentd. */
  async mount(machine: Machine, ebsVolumeID: string, connectAgent: () => Promise<Duplex>, sshUser: string, signal: AbortSignal): Promise<void> {
    const agent = createAgentClient({ connect: connectAgent, expectedSandboxID: machine.sandboxID });
    try {
      const command = ["sudo", "-n", "sh", "-c", workspaceMountScript, "ciab-mount", ebsVolumeID, volumeDevice, sshUser, instanceWorkspace, agentdUnitName];
      const result = await agent.exec({ command, cwd: "/", timeoutMs: 300_000 }, signal);
      if (result.exitCode !== 0) {
        throw new CiabError("runtime_error", `mounting EBS volume ${ebsVolumeID} at ${instanceWorkspace} failed: ${result.stderr.slice(-500).trim() || `exit ${result.exitCode}`}`, {
          context: { ebsVolumeID, instanceID: machine.machineID },
        });
      }
    } finally {
      agent.close();
    }
  }

  /** Best effort: flushes and unmounts the work dir so that the detach loses nothing written. */
  async unmount(machine: Machine, connectAgent: () => Promise<Duplex>, signal: AbortSignal): Promise<void> {
    const agent = createAgentClient({ connect: connectAgent, expectedSandboxID: machine.sandboxID });
    try {
      await agent.exec({ command: ["sudo", "-n", "sh", "-c", workspaceUnmountScript, "ciab-unmount", instanceWorkspace], cwd: "/", timeoutMs: 30_000 }, signal);
    } catch (error) {
      this.options.logger.warn({ err: error, instanceID: machine.machineID }, "cannot unmount the work dir before detaching its volume");
    } finally {
      agent.close();
    }
  }

  /** DetachVolume unless it is no longer attached to this instance. */
  async detach(api: EBSAPI, ebsVolumeID: string, region: string, instanceID: string, signal: AbortSignal): Promise<void> {
    await awsCall("DetachVolume", () => api.detachVolume(ebsVolumeID, instanceID, signal), region).catch((error: unknown) => {
      const code = awsErrorCode((error as CiabError).cause);
      if (!detachedAlready.has(code ?? "")) throw error;
    });
  }

  /** Waits until the volume is available again (or gone), so that the next sandbox can attach it. */
  async waitDetached(api: EBSAPI, ebsVolumeID: string, signal: AbortSignal): Promise<void> {
    await this.#waitFor(api, ebsVolumeID, (volume) => volume.state === "available", "available", signal, true);
  }

  /** Volumes tagged as this installation's, for the reconciler to compare with the store. */
  async listManaged(api: EBSAPI, signal: AbortSignal): Promise<EBSVolumeSummary[]> {
    const tags = { [machineLabels.managed]: "true", [machineLabels.installationID]: this.options.installationID };
    const volumes = await awsCall("DescribeVolumes", () => api.listVolumes(tags, signal));
    return volumes.filter((volume) => volume.tags[machineLabels.installationID] === this.options.installationID);
  }

  async #waitFor(
    api: EBSAPI,
    ebsVolumeID: string,
    condition: (volume: EBSVolumeSummary) => boolean,
    what: string,
    signal: AbortSignal,
    goneIsDone = false,
  ): Promise<void> {
    const timeoutSeconds = this.options.config.instance_ready_timeout_secs;
    await pollUntil(
      async (attemptSignal) => {
        const volume = await awsCall("DescribeVolumes", () => api.describeVolume(ebsVolumeID, attemptSignal));
        if (volume === undefined) {
          if (goneIsDone) return true;
          throw new CiabError("runtime_error", `EBS volume ${ebsVolumeID} disappeared while waiting for it to be ${what}`, { context: { ebsVolumeID } });
        }
        if (volume.state === "error") throw new CiabError("runtime_error", `EBS volume ${ebsVolumeID} is in state error`, { context: { ebsVolumeID } });
        return condition(volume) ? true : undefined;
      },
      { timeoutMs: timeoutSeconds * 1000, signal, firstDelayMs: 250, maxDelayMs: 2_000 },
      () => new CiabError("runtime_error", `EBS volume ${ebsVolumeID} was not ${what} within ${timeoutSeconds} s`, { retryable: true, context: { ebsVolumeID } }),
    );
  }
}
