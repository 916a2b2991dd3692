import { execFile } from "node:child_process";
import {
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CiabError } from "@ciab/protocol";

/** The few Docker and EC2 calls images need, behind an interface of our own (docs/decisions/0030). */
export interface ImageBackends {
  /** `docker rmi` of an image and its tag; false when it was gone already. */
  removeDockerImage(reference: string, signal: AbortSignal): Promise<boolean>;
  /** DeregisterImage, then DeleteSnapshot of each of its EBS snapshots; false when the AMI was gone already. */
  removeAMI(region: string, amiID: string, signal: AbortSignal): Promise<boolean>;
  /**
   * What Packer leaves when it is killed mid-build, found by the build's tag or label: build containers;
   * instances (terminated), and Packer's temporary key pairs and security groups named after the build.
   * Returns what was removed.
   */
  removeLeftovers(buildID: string, regions: string[], signal: AbortSignal): Promise<string[]>;
}

export interface ImageBackendOptions {
  dockerBinary?: string;
  /** `[packer] endpoint`: an AWS-compatible EC2 API. */
  endpoint: string | undefined;
}

export function createImageBackends(options: ImageBackendOptions): ImageBackends {
  const docker = options.dockerBinary ?? "docker";
  const ec2 = (region: string) =>
    new EC2Client({ region, maxAttempts: 2, ...(options.endpoint !== undefined && { endpoint: options.endpoint }) });
  const run = (args: string[], signal: AbortSignal) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(docker, args, { signal, timeout: 120_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code) || 1 : 0, stdout: String(stdout), stderr: String(stderr) }),
      );
    });
  const awsFailure = (action: string, error: unknown) =>
    new CiabError("runtime_error", `${action}: ${(error as Error).message}`, { cause: error, retryable: true, context: { awsCode: (error as { name?: string }).name } });

  return {
    async removeDockerImage(reference, signal) {
      const result = await run(["rmi", "--force", reference], signal);
      if (result.code === 0) return true;
      if (/No such image/i.test(result.stderr)) return false;
      throw new CiabError("runtime_error", `docker rmi ${reference} failed: ${result.stderr.trim().slice(0, 500)}`);
    },

    async removeAMI(region, amiID, signal) {
      const client = ec2(region);
      try {
        const described = await client.send(new DescribeImagesCommand({ ImageIds: [amiID] }), { abortSignal: signal }).catch((error: unknown) => {
          if ((error as { name?: string }).name === "InvalidAMIID.NotFound") return { Images: [] };
          throw error;
        });
        const image = described.Images?.[0];
        if (!image) return false;
        const snapshots = (image.BlockDeviceMappings ?? []).flatMap((mapping) => (mapping.Ebs?.SnapshotId ? [mapping.Ebs.SnapshotId] : []));
        await client.send(new DeregisterImageCommand({ ImageId: amiID }), { abortSignal: signal });
        for (const snapshotID of snapshots) await client.send(new DeleteSnapshotCommand({ SnapshotId: snapshotID }), { abortSignal: signal });
        return true;
      } catch (error) {
        throw awsFailure(`deleting ${amiID} in ${region}`, error);
      } finally {
        client.destroy();
      }
    },

    async removeLeftovers(buildID, regions, signal) {
      const removed: string[] = [];
      const listed = await run(["ps", "--all", "--quiet", "--filter", `label=ciab-build-id=${buildID}`], signal);
      for (const id of listed.stdout.split("\n").filter((line) => /^[0-9a-f]{12,64}$/.test(line))) {
        if ((await run(["rm", "--force", id], signal)).code === 0) removed.push(`container ${id}`);
      }
      for (const region of regions) {
        const client = ec2(region);
        try {
          const reservations = await client.send(
            new DescribeInstancesCommand({ Filters: [{ Name: "tag:ciab-build-id", Values: [buildID] }, { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] }] }),
            { abortSignal: signal },
          );
          const instances = (reservations.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).flatMap((instance) => (instance.InstanceId ? [instance.InstanceId] : []));
          if (instances.length > 0) {
            await client.send(new TerminateInstancesCommand({ InstanceIds: instances }), { abortSignal: signal });
            removed.push(...instances.map((id) => `instance ${id}`));
          }
          // Packer names its temporary key pair and security group `packer_<uuid>`; the templates put the build id in the tags.
          const groups = await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "tag:ciab-build-id", Values: [buildID] }] }), { abortSignal: signal });
          for (const group of groups.SecurityGroups ?? []) {
            if (group.GroupId && (await client.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId }), { abortSignal: signal }).then(() => true, () => false))) removed.push(`security group ${group.GroupId}`);
          }
          const keys = await client.send(new DescribeKeyPairsCommand({ Filters: [{ Name: "tag:ciab-build-id", Values: [buildID] }] }), { abortSignal: signal }).catch(() => ({ KeyPairs: [] }));
          for (const key of keys.KeyPairs ?? []) {
            if (key.KeyName && (await client.send(new DeleteKeyPairCommand({ KeyName: key.KeyName }), { abortSignal: signal }).then(() => true, () => false))) removed.push(`key pair ${key.KeyName}`);
          }
        } catch (error) {
          throw awsFailure(`finding leftovers of ${buildID} in ${region}`, error);
        } finally {
          client.destroy();
        }
      }
      return removed;
    },
  };
}
