import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  GetConsoleOutputCommand,
  EC2Client as SDKEC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
  type RunInstancesCommandInput,
} from "@aws-sdk/client-ec2";
import { createEBSAPI, type EBSAPI } from "./ebs-client.js";

/** An AMI as far as launching needs it. */
export interface ImageSummary {
  imageID: string;
  name: string;
  /** The device of the root volume, where the root volume's size and type are set. */
  rootDeviceName: string;
  creationDate: string;
}

export type InstanceState = "pending" | "running" | "shutting-down" | "terminated" | "stopping" | "stopped";

export interface InstanceSummary {
  instanceID: string;
  state: InstanceState;
  privateIPAddress: string | undefined;
  publicIPAddress: string | undefined;
  instanceType: string;
  tags: Record<string, string>;
}

/** One instance to launch, in our own words. */
export interface LaunchRequest {
  imageID: string;
  instanceType: string;
  subnetID: string | undefined;
  /** Where a persistent volume waits for the instance (EBS volumes attach only within their zone). */
  availabilityZone?: string | undefined;
  securityGroupIDs: string[];
  keyName: string | undefined;
  instanceProfile: string | undefined;
  rootVolume: { deviceName: string; sizeGB: number; type: string };
  spot: boolean;
  /** Put on the instance and on its volumes. */
  tags: Record<string, string>;
  userData: string;
  /** Idempotency token: a retried launch returns the same instance. */
  clientToken: string;
}

/** The few EC2 calls the runtime makes (STYLE rule 5); tests and other SDKs can stand in. */
export interface EC2API {
  describeImage(imageID: string, signal: AbortSignal): Promise<ImageSummary | undefined>;
  /** The newest image of `owner` whose name matches `namePattern` (EC2 wildcards). */
  newestImage(owner: string, namePattern: string, signal: AbortSignal): Promise<ImageSummary | undefined>;
  launch(request: LaunchRequest, signal: AbortSignal): Promise<InstanceSummary>;
  describeInstance(instanceID: string, signal: AbortSignal): Promise<InstanceSummary | undefined>;
  /** Instances (any state but terminated) carrying every one of `tags`. */
  listInstances(tags: Record<string, string>, signal: AbortSignal): Promise<InstanceSummary[]>;
  start(instanceID: string, signal: AbortSignal): Promise<void>;
  stop(instanceID: string, signal: AbortSignal): Promise<void>;
  terminate(instanceID: string, signal: AbortSignal): Promise<void>;
  /** The instance's console output as AWS returns it (base64), or undefined when it has none yet. */
  consoleOutput(instanceID: string, signal: AbortSignal): Promise<string | undefined>;
  /** EBS volumes, for persistent work dirs. */
  volumes: EBSAPI;
  close(): void;
}

export interface EC2APIOptions {
  region: string;
  endpoint: string | undefined;
}

/** The EC2 API through AWS SDK v3; credentials come from the SDK's standard chain. */
export function createEC2API(options: EC2APIOptions): EC2API {
  const client = new SDKEC2Client({
    region: options.region,
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    maxAttempts: 3,
  });
  const abortable = (signal: AbortSignal) => ({ abortSignal: signal });

  return {
    async describeImage(imageID, signal) {
      const output = await client.send(new DescribeImagesCommand({ ImageIds: [imageID] }), abortable(signal));
      return output.Images?.map(toImage)[0];
    },

    async newestImage(owner, namePattern, signal) {
      const output = await client.send(
        new DescribeImagesCommand({
          Owners: [owner],
          Filters: [
            { Name: "name", Values: [namePattern] },
            { Name: "state", Values: ["available"] },
          ],
        }),
        abortable(signal),
      );
      const images = (output.Images ?? []).map(toImage);
      images.sort((a, b) => b.creationDate.localeCompare(a.creationDate) || b.name.localeCompare(a.name));
      return images[0];
    },

    async launch(request, signal) {
      const tags = Object.entries(request.tags).map(([Key, Value]) => ({ Key, Value }));
      const input: RunInstancesCommandInput = {
        ImageId: request.imageID,
        InstanceType: request.instanceType as RunInstancesCommandInput["InstanceType"],
        MinCount: 1,
        MaxCount: 1,
        ClientToken: request.clientToken,
        UserData: Buffer.from(request.userData, "utf8").toString("base64"),
        BlockDeviceMappings: [
          {
            DeviceName: request.rootVolume.deviceName,
            Ebs: {
              VolumeSize: request.rootVolume.sizeGB,
              VolumeType: request.rootVolume.type as "gp3",
              DeleteOnTermination: true,
              Encrypted: true,
            },
          },
        ],
        TagSpecifications: [
          { ResourceType: "instance", Tags: tags },
          { ResourceType: "volume", Tags: tags },
        ],
        MetadataOptions: { HttpTokens: "required", HttpPutResponseHopLimit: 1 },
        ...(request.subnetID !== undefined && { SubnetId: request.subnetID }),
        ...(request.availabilityZone !== undefined && { Placement: { AvailabilityZone: request.availabilityZone } }),
        ...(request.securityGroupIDs.length > 0 && { SecurityGroupIds: request.securityGroupIDs }),
        ...(request.keyName !== undefined && { KeyName: request.keyName }),
        ...(request.instanceProfile !== undefined && { IamInstanceProfile: profileReference(request.instanceProfile) }),
        // No MaxPrice: AWS caps a spot instance's price at the on-demand price by default.
        ...(request.spot && {
          InstanceMarketOptions: { MarketType: "spot", SpotOptions: { SpotInstanceType: "one-time" } },
        }),
      };
      const output = await client.send(new RunInstancesCommand(input), abortable(signal));
      const instance = output.Instances?.[0];
      if (!instance?.InstanceId) throw new Error("RunInstances returned no instance");
      return toInstance(instance);
    },

    async describeInstance(instanceID, signal) {
      const output = await client.send(
        new DescribeInstancesCommand({ InstanceIds: [instanceID] }),
        abortable(signal),
      );
      return output.Reservations?.flatMap((reservation) => reservation.Instances ?? []).map(toInstance)[0];
    },

    async listInstances(tags, signal) {
      const filters = [
        ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
        { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped", "shutting-down"] },
      ];
      const instances: InstanceSummary[] = [];
      let nextToken: string | undefined;
      // Bounded: 100 pages of 1000 instances is far beyond any installation.
      for (let page = 0; page < 100; page++) {
        const output = await client.send(
          new DescribeInstancesCommand({ Filters: filters, MaxResults: 1000, ...(nextToken && { NextToken: nextToken }) }),
          abortable(signal),
        );
        for (const reservation of output.Reservations ?? []) instances.push(...(reservation.Instances ?? []).map(toInstance));
        nextToken = output.NextToken;
        if (!nextToken) break;
      }
      return instances;
    },

    async start(instanceID, signal) {
      await client.send(new StartInstancesCommand({ InstanceIds: [instanceID] }), abortable(signal));
    },

    async stop(instanceID, signal) {
      await client.send(new StopInstancesCommand({ InstanceIds: [instanceID] }), abortable(signal));
    },

    async terminate(instanceID, signal) {
      await client.send(new TerminateInstancesCommand({ InstanceIds: [instanceID] }), abortable(signal));
    },

    async consoleOutput(instanceID, signal) {
      const output = await client.send(new GetConsoleOutputCommand({ InstanceId: instanceID, Latest: true }), abortable(signal));
      return output.Output;
    },

    volumes: createEBSAPI(client),

    close: () => client.destroy(),
  };
}

interface ImageLike {
  ImageId?: string;
  Name?: string;
  RootDeviceName?: string;
  CreationDate?: string;
}

function toImage(image: ImageLike): ImageSummary {
  return {
    imageID: image.ImageId ?? "",
    name: image.Name ?? "",
    rootDeviceName: image.RootDeviceName ?? "/dev/sda1",
    creationDate: image.CreationDate ?? "",
  };
}

function toInstance(instance: Instance): InstanceSummary {
  return {
    instanceID: instance.InstanceId ?? "",
    state: (instance.State?.Name ?? "pending") as InstanceState,
    privateIPAddress: instance.PrivateIpAddress,
    publicIPAddress: instance.PublicIpAddress,
    instanceType: instance.InstanceType ?? "",
    tags: Object.fromEntries((instance.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
  };
}

function profileReference(profile: string): { Arn: string } | { Name: string } {
  return profile.startsWith("arn:") ? { Arn: profile } : { Name: profile };
}
