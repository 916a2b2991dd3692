import { randomBytes } from "node:crypto";
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CiabError } from "@ciab/protocol";
import { createDataKey } from "../../packages/server/src/data-key.js";
import { MachineConfigOffers, machineDownloadSource } from "../../packages/server/src/services/machine-config-offers.js";
import { createMachineDownloadSigner } from "../../packages/server/src/services/machine-download-signer.js";
import { ec2RuntimeSchema, type EC2RuntimeConfig } from "../../packages/server/src/runtimes/ec2/ec2-runtime-config.js";
import { createEC2API, createEC2Runtime, type EC2API } from "../../packages/server/src/runtimes/ec2/index.js";
import { chooseImage, launchRequest } from "../../packages/server/src/runtimes/ec2/instance-launch.js";
import { generateSSHKeyPair } from "../../packages/server/src/runtimes/ec2/ssh-key-pair.js";
import { buildUserData } from "../../packages/server/src/runtimes/ec2/user-data.js";
import type { Runtime } from "../../packages/server/src/runtimes/runtime.js";
import { agentAMIID, ubuntuJammyAMIID } from "../harness/aws/amis.js";
import { harnessEC2Client } from "../harness/aws/ec2-client.js";
import { startMoto, type Moto } from "../harness/aws/moto.js";
import { newSpec } from "./runtime-conformance.js";
import { testDependencies } from "./test-dependencies.js";

// The AWS side alone, against a bare moto_server: no instance boots, so nothing answers SSH. The bastion
// is a closed loopback port, so that not one packet leaves 127.0.0.1.
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let moto: Moto;
let aws: EC2Client;
let api: EC2API;
const dependencies = testDependencies("ec2-aws");
const dataKey = createDataKey(randomBytes(32));
// Signed URLs of a control plane on a closed loopback port: no instance boots here to fetch them.
const signer = createMachineDownloadSigner({ publicURL: "http://127.0.0.1:1", key: randomBytes(32) });
const offers = new MachineConfigOffers(signer);
const machineDownloads = machineDownloadSource(signer, offers);
const signal = () => AbortSignal.timeout(30_000);

function config(overrides: Partial<EC2RuntimeConfig> = {}): EC2RuntimeConfig {
  return ec2RuntimeSchema.parse({
    endpoint: moto.endpoint,
    default_ami: agentAMIID,
    ssh_user: "admin",
    ssh_timeout_secs: 1,
    instance_ready_timeout_secs: 10,
    bastion: { host: "127.0.0.1", port: 1, user: "jump", private_key: generateSSHKeyPair("bastion").privateKey },
    ...overrides,
  });
}

function runtime(overrides: Partial<EC2RuntimeConfig> = {}, installationID = dependencies.installationID): Runtime {
  return createEC2Runtime(config(overrides), { ...dependencies, installationID, dataKey, machineDownloads });
}

async function describeInstance(instanceID: string) {
  const output = await aws.send(new DescribeInstancesCommand({ InstanceIds: [instanceID] }));
  return output.Reservations![0]!.Instances![0]!;
}

beforeAll(async () => {
  moto = await startMoto();
  aws = harnessEC2Client(moto.endpoint);
  api = createEC2API({ region: "us-east-1", endpoint: moto.endpoint });
});

afterAll(async () => {
  api?.close();
  aws?.destroy();
  await moto?.stop();
  dependencies.removeDataDirectory();
});

describe("ec2 runtime against moto", () => {
  test("finds the newest Canonical Ubuntu 22.04 AMI; the agent AMI is pre-built; a missing AMI is image_not_found", async () => {
    const ubuntu = await chooseImage(api, config({ default_ami: undefined }), undefined, signal());
    expect(ubuntu).toMatchObject({ image: { imageID: ubuntuJammyAMIID, rootDeviceName: "/dev/sda1" }, prebuilt: false });
    const agent = await chooseImage(api, config({ default_ami: undefined }), agentAMIID, signal());
    expect(agent.prebuilt).toBe(true);
    const missing = await chooseImage(api, config(), "ami-00000000000000000", signal()).catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: "image_not_found", context: { image: "ami-00000000000000000" } });
  });

  // moto checks instance profiles against its IAM, which the harness does not populate: not asserted here.
  test("RunInstances gets the type, root volume, spot market and tags on instance and volume", async () => {
    const spec = newSpec();
    const settings = config({
      instance_type: "m5.large",
      root_volume_size_gb: 64,
      root_volume_type: "gp3",
      spot: true,
      tags: { team: "infra", Name: "overridden" },
    });
    const { image } = await chooseImage(api, settings, undefined, signal());
    const key = generateSSHKeyPair("user");
    const userData = buildUserData({
      sandboxID: spec.sandboxID,
      sshUser: "admin",
      sshPublicKey: key.publicKey,
      configURL: machineDownloads.offerConfig(spec.sandboxID, { env: { GREETING: 'say "hi" 100%' } }),
      hostKey: generateSSHKeyPair("host"),
      bootstrap: undefined,
    });
    const request = launchRequest({ config: settings, spec, image, installationID: "inst_a", userData });
    const instance = await api.launch(request, signal());
    try {
      const described = await describeInstance(instance.instanceID);
      expect(described.InstanceType).toBe("m5.large");
      expect(described.ImageId).toBe(agentAMIID);
      expect(described.InstanceLifecycle).toBe("spot");
      const tags = Object.fromEntries(described.Tags!.map((tag) => [tag.Key, tag.Value]));
      expect(tags).toEqual({
        team: "infra",
        Name: `ciab-${spec.name}`,
        "ciab-managed": "true",
        "ciab-sandbox-id": spec.sandboxID,
        "ciab-installation-id": "inst_a",
      });
      const volumes = await aws.send(new DescribeVolumesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [instance.instanceID] }] }));
      const volume = volumes.Volumes![0]!;
      expect(volume).toMatchObject({ Size: 64, VolumeType: "gp3" });
      expect(Object.fromEntries(volume.Tags!.map((tag) => [tag.Key, tag.Value]))).toEqual(tags);
      const attribute = await aws.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceID, Attribute: "userData" }));
      const recorded = Buffer.from(attribute.UserData!.Value!, "base64").toString("utf8");
      expect(recorded).toBe(userData);
      expect(recorded.startsWith("#cloud-config\n")).toBe(true);
      const cloudConfig = JSON.parse(recorded.slice("#cloud-config\n".length));
      expect(cloudConfig.users[0]).toMatchObject({ name: "admin", ssh_authorized_keys: [key.publicKey] });
      const unit = cloudConfig.write_files.find((file: { path: string }) => file.path.endsWith("ciab-agentd.service")).content;
      expect(unit).toContain("User=admin");
      expect(unit).toContain(`--sandbox-id ${spec.sandboxID}`);
      expect(unit).toContain(`--env-file /var/lib/ciab/sandbox-env.json`);
      expect(recorded).not.toContain("GREETING");
      expect(cloudConfig.runcmd.at(-1)).toEqual(["systemctl", "enable", "--now", "ciab-agentd.service"]);
    } finally {
      await api.terminate(instance.instanceID, signal());
    }
  });

  test("lists only this installation's instances, a stopped one as paused; destroy terminates, twice", async () => {
    const mine = runtime();
    const theirs = runtime({}, "inst_other");
    const settings = config();
    const { image } = await chooseImage(api, settings, undefined, signal());
    const launch = async (installationID: string) => {
      const spec = newSpec();
      const request = launchRequest({ config: settings, spec, image, installationID, userData: "#cloud-config\n{}\n" });
      return { spec, instance: await api.launch(request, signal()) };
    };
    const first = await launch(dependencies.installationID);
    const second = await launch(dependencies.installationID);
    const other = await launch("inst_other");
    // An instance tagged ciab-managed by hand but for no installation is not ours either.
    const stray = await launch("inst_other");
    await aws.send(new CreateTagsCommand({ Resources: [stray.instance.instanceID], Tags: [{ Key: "ciab-installation-id", Value: "" }] }));
    try {
      await api.stop(second.instance.instanceID, signal());
      const listed = await mine.listManaged(signal());
      expect(listed.map((machine) => machine.machineID).sort()).toEqual([first.instance.instanceID, second.instance.instanceID].sort());
      const states = Object.fromEntries(listed.map((machine) => [machine.sandboxID, machine.state]));
      expect(states).toEqual({ [first.spec.sandboxID]: "running", [second.spec.sandboxID]: "paused" });
      expect((await theirs.listManaged(signal())).map((machine) => machine.machineID)).toEqual([other.instance.instanceID]);

      const machine = { machineID: first.instance.instanceID, sandboxID: first.spec.sandboxID, details: {} };
      await mine.destroy(machine, signal());
      await mine.destroy(machine, signal());
      expect((await describeInstance(first.instance.instanceID)).State?.Name).toBe("terminated");
      expect((await mine.listManaged(signal())).map((machine) => machine.machineID)).toEqual([second.instance.instanceID]);
    } finally {
      for (const { instance } of [second, other, stray]) await api.terminate(instance.instanceID, signal());
      await mine.close();
      await theirs.close();
    }
  });

  test("a provision whose channel never answers fails as agent_unreachable and terminates its instance", async () => {
    const ec2 = runtime();
    const spec = newSpec();
    try {
      const error = await ec2.provision(spec, { signal: signal() }).catch((reason: unknown) => reason);
      expect(error).toMatchObject({ code: "agent_unreachable" });
      const instances = await aws.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:ciab-sandbox-id", Values: [spec.sandboxID] }] }));
      const states = instances.Reservations!.flatMap((reservation) => reservation.Instances!.map((instance) => instance.State?.Name));
      expect(states).toEqual(["terminated"]);
    } finally {
      await ec2.close();
    }
  });

  // moto_server answers only us-east-1 with the harness's AMIs, so every region's client goes there and the
  // test checks which regions the runtime asked for.
  test("a workspace's overrides pick its region, type and tags; listManaged asks every configured region", async () => {
    const regions: string[] = [];
    const ec2 = createEC2Runtime(
      config({
        tags: { team: "platform", env: "test" },
        workspaces: { ws_west: { region: "us-west-2", instance_type: "c5.large", tags: { team: "west" } } },
      }),
      { ...dependencies, dataKey, machineDownloads },
      (region) => {
        regions.push(region);
        return createEC2API({ region: "us-east-1", endpoint: moto.endpoint });
      },
    );
    const spec = newSpec({ workspaceID: "ws_west" });
    try {
      const error = await ec2.provision(spec, { signal: signal() }).catch((reason: unknown) => reason);
      expect(error, (error as Error).message).toMatchObject({ code: "agent_unreachable" });
      expect(regions).toEqual(["us-west-2"]);
      const found = await aws.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:ciab-sandbox-id", Values: [spec.sandboxID] }] }));
      const instance = found.Reservations![0]!.Instances![0]!;
      expect(instance.InstanceType).toBe("c5.large");
      expect(Object.fromEntries(instance.Tags!.map((tag) => [tag.Key, tag.Value]))).toMatchObject({
        team: "west",
        env: "test",
        "ciab-workspace-id": "ws_west",
      });
      const { image } = await chooseImage(api, config(), undefined, signal());
      const running = await api.launch(
        launchRequest({ config: config(), spec: newSpec(), image, installationID: dependencies.installationID, userData: "#cloud-config\n{}\n" }),
        signal(),
      );
      try {
        const listed = await ec2.listManaged(signal());
        expect(regions.sort()).toEqual(["us-east-1", "us-west-2"]);
        // Every region's client reaches the same moto here, so the instance is listed once per region, each
        // with the region the reconciler's destroy will use.
        expect(listed.filter((machine) => machine.machineID === running.instanceID).map((machine) => machine.details.region).sort()).toEqual([
          "us-east-1",
          "us-west-2",
        ]);
      } finally {
        await api.terminate(running.instanceID, signal());
      }
    } finally {
      await ec2.close();
    }
  });

  test("AWS errors become runtime_error with the AWS code and whether a retry helps", async () => {
    const ec2 = runtime({ subnet_id: "subnet-00000000" });
    try {
      const error = await ec2.provision(newSpec(), { signal: signal() }).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(CiabError);
      expect(error).toMatchObject({ code: "runtime_error", context: { awsCode: "InvalidSubnetID.NotFound" }, retryable: false });
      expect((error as Error).message).toContain("RunInstances");
    } finally {
      await ec2.close();
    }
  });

  test("a plain AMI needs [server] public_url to download agentd, and so does a sandbox env", async () => {
    const withoutURL = (overrides: Partial<EC2RuntimeConfig>) => createEC2Runtime(config(overrides), { ...dependencies, dataKey });
    const prebuilt = withoutURL({});
    try {
      const error = await prebuilt.provision(newSpec(), { signal: signal() }).catch((reason: unknown) => reason);
      expect(error).toMatchObject({ code: "invalid_request", message: expect.stringContaining("single-use URL of [server] public_url") });
    } finally {
      await prebuilt.close();
    }
    const ec2 = withoutURL({ default_ami: undefined });
    try {
      const error = await ec2.provision(newSpec(), { signal: signal() }).catch((reason: unknown) => reason);
      expect(error).toMatchObject({ code: "invalid_request" });
      expect((error as Error).message).toContain("public_url");
    } finally {
      await ec2.close();
    }
  });
});
