import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeAvailabilityZonesCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  type EC2Client,
  type Volume,
} from "@aws-sdk/client-ec2";

export type EBSVolumeState = "creating" | "available" | "in-use" | "deleting" | "deleted" | "error";

export interface EBSVolumeSummary {
  volumeID: string;
  state: EBSVolumeState;
  availabilityZone: string;
  sizeGB: number;
  /** The instance it is attached to (attaching, attached or detaching), if any. */
  attachment: { instanceID: string; device: string; state: string } | undefined;
  tags: Record<string, string>;
}

export interface CreateEBSVolumeRequest {
  availabilityZone: string;
  sizeGB: number;
  tags: Record<string, string>;
  /** Idempotency token: a retried create returns the same volume. */
  clientToken: string;
}

/** The EBS calls persistent volumes make (STYLE rule 5). */
export interface EBSAPI {
  /** The zone a subnet is in, or the region's first available zone when no subnet is set. */
  availabilityZone(subnetID: string | undefined, signal: AbortSignal): Promise<string | undefined>;
  /** A gp3 volume, always encrypted. */
  createVolume(request: CreateEBSVolumeRequest, signal: AbortSignal): Promise<EBSVolumeSummary>;
  /** Undefined when EC2 does not know the volume (deleted). */
  describeVolume(volumeID: string, signal: AbortSignal): Promise<EBSVolumeSummary | undefined>;
  /** Volumes carrying every one of `tags`. */
  listVolumes(tags: Record<string, string>, signal: AbortSignal): Promise<EBSVolumeSummary[]>;
  attachVolume(volumeID: string, instanceID: string, device: string, signal: AbortSignal): Promise<void>;
  detachVolume(volumeID: string, instanceID: string, signal: AbortSignal): Promise<void>;
  deleteVolume(volumeID: string, signal: AbortSignal): Promise<void>;
}

/** `EBSAPI` over the same SDK client as the instance calls. */
export function createEBSAPI(client: EC2Client): EBSAPI {
  const abortable = (signal: AbortSignal) => ({ abortSignal: signal });
  return {
    async availabilityZone(subnetID, signal) {
      if (subnetID !== undefined) {
        const output = await client.send(new DescribeSubnetsCommand({ SubnetIds: [subnetID] }), abortable(signal));
        return output.Subnets?.[0]?.AvailabilityZone;
      }
      const output = await client.send(
        new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "state", Values: ["available"] }] }),
        abortable(signal),
      );
      return (output.AvailabilityZones ?? []).map((zone) => zone.ZoneName ?? "").filter(Boolean).sort()[0];
    },

    async createVolume(request, signal) {
      const output = await client.send(
        new CreateVolumeCommand({
          AvailabilityZone: request.availabilityZone,
          Size: request.sizeGB,
          VolumeType: "gp3",
          Encrypted: true,
          ClientToken: request.clientToken,
          TagSpecifications: [{ ResourceType: "volume", Tags: Object.entries(request.tags).map(([Key, Value]) => ({ Key, Value })) }],
        }),
        abortable(signal),
      );
      return toVolume(output);
    },

    async describeVolume(volumeID, signal) {
      try {
        const output = await client.send(new DescribeVolumesCommand({ VolumeIds: [volumeID] }), abortable(signal));
        return output.Volumes?.map(toVolume)[0];
      } catch (error) {
        if ((error as { name?: string }).name === "InvalidVolume.NotFound") return undefined;
        throw error;
      }
    },

    async listVolumes(tags, signal) {
      const filters = Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] }));
      const volumes: EBSVolumeSummary[] = [];
      let nextToken: string | undefined;
      // Bounded: 100 pages of 500 volumes is far beyond any installation.
      for (let page = 0; page < 100; page++) {
        const output = await client.send(
          new DescribeVolumesCommand({ Filters: filters, MaxResults: 500, ...(nextToken && { NextToken: nextToken }) }),
          abortable(signal),
        );
        volumes.push(...(output.Volumes ?? []).map(toVolume));
        nextToken = output.NextToken;
        if (!nextToken) break;
      }
      return volumes;
    },

    async attachVolume(volumeID, instanceID, device, signal) {
      await client.send(new AttachVolumeCommand({ VolumeId: volumeID, InstanceId: instanceID, Device: device }), abortable(signal));
    },

    async detachVolume(volumeID, instanceID, signal) {
      await client.send(new DetachVolumeCommand({ VolumeId: volumeID, InstanceId: instanceID }), abortable(signal));
    },

    async deleteVolume(volumeID, signal) {
      await client.send(new DeleteVolumeCommand({ VolumeId: volumeID }), abortable(signal));
    },
  };
}

function toVolume(volume: Volume): EBSVolumeSummary {
  const attachment = volume.Attachments?.find((candidate) => candidate.State !== "detached");
  return {
    volumeID: volume.VolumeId ?? "",
    state: (volume.State ?? "creating") as EBSVolumeState,
    availabilityZone: volume.AvailabilityZone ?? "",
    sizeGB: volume.Size ?? 0,
    attachment:
      attachment === undefined ? undefined : { instanceID: attachment.InstanceId ?? "", device: attachment.Device ?? "", state: attachment.State ?? "" },
    tags: Object.fromEntries((volume.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
  };
}
