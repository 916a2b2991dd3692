import { randomBytes } from "node:crypto";
import { AttachVolumeCommand, DescribeVolumesCommand, RunInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDataKey } from "../../packages/server/src/data-key.js";
import { newID } from "../../packages/server/src/ids.js";
import { createReconciler } from "../../packages/server/src/loops/reconciler.js";
import { ec2RuntimeSchema } from "../../packages/server/src/runtimes/ec2/ec2-runtime-config.js";
import { createEC2Runtime } from "../../packages/server/src/runtimes/ec2/index.js";
import type { Runtime } from "../../packages/server/src/runtimes/runtime.js";
import type { RuntimeRegistry } from "../../packages/server/src/runtimes/runtime-registry.js";
import type { SandboxService } from "../../packages/server/src/services/sandbox-service.js";
import { createSqliteStore } from "../../packages/server/src/store/sqlite/sqlite-store.js";
import { agentAMIID } from "../harness/aws/amis.js";
import { harnessEC2Client } from "../harness/aws/ec2-client.js";
import { startMoto, type Moto } from "../harness/aws/moto.js";
import { testDependencies } from "./test-dependencies.js";

// The EBS side of persistent volumes against a bare moto_server: no instance boots here.
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let moto: Moto;
let aws: EC2Client;
let runtime: Runtime;
const dependencies = testDependencies("ec2-ebs");
const signal = () => AbortSignal.timeout(30_000);

function spec(userID = "usr_a", workspaceID = "ws_a") {
  return { volumeID: newID("vol"), workspaceID, userID };
}

async function describe1(ebsVolumeID: string) {
  return (await aws.send(new DescribeVolumesCommand({ VolumeIds: [ebsVolumeID] }))).Volumes![0]!;
}

beforeAll(async () => {
  moto = await startMoto();
  aws = harnessEC2Client(moto.endpoint);
  const config = ec2RuntimeSchema.parse({
    endpoint: moto.endpoint,
    default_ami: agentAMIID,
    volume_size_gb: 3,
    tags: { team: "storage" },
    workspaces: { ws_big: { volume_size_gb: 7 } },
  });
  runtime = createEC2Runtime(config, { ...dependencies, dataKey: createDataKey(randomBytes(32)) });
});

afterAll(async () => {
  await runtime?.close();
  aws?.destroy();
  await moto?.stop();
  dependencies.removeDataDirectory();
});

describe("EBS volumes of the ec2 runtime against moto", () => {
  test("a volume is gp3, encrypted, tagged with its owners, sized by the workspace or the section", async () => {
    const mine = spec();
    const details = await runtime.createVolume!(mine, signal());
    expect(details).toMatchObject({ ebsVolumeID: expect.stringMatching(/^vol-/), region: "us-east-1", availabilityZone: "us-east-1a", sizeGB: 3 });
    const volume = await describe1(details.ebsVolumeID as string);
    expect(volume).toMatchObject({ Size: 3, VolumeType: "gp3", Encrypted: true, State: "available", AvailabilityZone: "us-east-1a" });
    expect(Object.fromEntries(volume.Tags!.map((tag) => [tag.Key, tag.Value]))).toEqual({
      team: "storage",
      Name: `ciab-${mine.volumeID}`,
      "ciab-managed": "true",
      "ciab-installation-id": dependencies.installationID,
      "ciab-workspace-id": "ws_a",
      "ciab-user-id": "usr_a",
      "ciab-volume-id": mine.volumeID,
    });
    const big = await runtime.createVolume!(spec("usr_b", "ws_big"), signal());
    expect((await describe1(big.ebsVolumeID as string)).Size).toBe(7);
    await runtime.deleteVolume!({ volumeID: mine.volumeID, details }, signal());
    await expect(aws.send(new DescribeVolumesCommand({ VolumeIds: [details.ebsVolumeID as string] }))).rejects.toMatchObject({ name: "InvalidVolume.NotFound" });
    // Gone already is fine.
    await runtime.deleteVolume!({ volumeID: mine.volumeID, details }, signal());
  });

  test("a volume attached anywhere is not deleted: volume_in_use", async () => {
    const theirs = spec();
    const details = await runtime.createVolume!(theirs, signal());
    const launched = await aws.send(new RunInstancesCommand({ ImageId: agentAMIID, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: "us-east-1a" } }));
    await aws.send(new AttachVolumeCommand({ VolumeId: details.ebsVolumeID as string, InstanceId: launched.Instances![0]!.InstanceId!, Device: "/dev/sdf" }));
    await expect(runtime.deleteVolume!({ volumeID: theirs.volumeID, details }, signal())).rejects.toMatchObject({ code: "volume_in_use" });
    expect((await describe1(details.ebsVolumeID as string)).State).toBe("in-use");
  });

  test("the reconciler reports volumes labeled ours that no record owns, and deletes none", async () => {
    const store = createSqliteStore({ filename: ":memory:" });
    await store.migrate();
    const kept = spec("usr_c", "ws_c");
    const keptDetails = await runtime.createVolume!(kept, signal());
    await store.volumes.create({ id: kept.volumeID, workspaceID: "ws_c", userID: "usr_c", runtime: "ec2", details: keptDetails, sandboxID: null, createdAt: new Date().toISOString(), lastUsedAt: null });
    const registry: RuntimeRegistry = { defaultName: "ec2", get: () => runtime, all: () => [runtime], close: async () => undefined };
    // No sandbox is live here, so the reconciler never asks the sandbox service anything.
    const reconciler = createReconciler({ store, runtimes: registry, sandboxes: {} as SandboxService, logger: dependencies.logger, orphanGraceMs: 0 });
    const report = await reconciler.reconcileOnce(signal());
    // Every volume the earlier tests made without a record, and none with one.
    const managed = await aws.send(new DescribeVolumesCommand({ Filters: [{ Name: "tag:ciab-installation-id", Values: [dependencies.installationID] }] }));
    const unowned = managed.Volumes!.map((volume) => volume.VolumeId!).filter((id) => id !== keptDetails.ebsVolumeID);
    expect(unowned.length).toBeGreaterThan(0);
    expect(report.unownedVolumes.sort()).toEqual(unowned.sort());
    const after = await aws.send(new DescribeVolumesCommand({ Filters: [{ Name: "tag:ciab-installation-id", Values: [dependencies.installationID] }] }));
    expect(after.Volumes).toHaveLength(managed.Volumes!.length);
    await store.close();
  });
});
