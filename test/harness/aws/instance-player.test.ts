import {
  DescribeImagesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { plainAMIImage } from "./ami-images.js";
import { agentAMIID, canonicalOwnerID, ubuntuJammyAMIID } from "./amis.js";
import { docker } from "./docker-cli.js";
import { harnessEC2Client } from "./ec2-client.js";
import { startInstancePlayer, type InstancePlayer } from "./instance-player.js";
import { startMoto, type Moto } from "./moto.js";
import { generateSSHKeyPair } from "./ssh-keys.js";
import { runThroughBastion } from "./ssh-through-bastion.js";

let moto: Moto;
let player: InstancePlayer;
let ec2: EC2Client;
const launched: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  player = await startInstancePlayer({ endpoint: moto.endpoint });
  ec2 = harnessEC2Client(moto.endpoint);
});

afterAll(async () => {
  await player?.close();
  await moto?.stop();
  ec2?.destroy();
});

async function launch(imageID: string, userData: string): Promise<{ instanceID: string; privateIP: string }> {
  const answer = await ec2.send(
    new RunInstancesCommand({ ImageId: imageID, MinCount: 1, MaxCount: 1, InstanceType: "t3.small", UserData: Buffer.from(userData).toString("base64") }),
  );
  const instance = answer.Instances![0]!;
  launched.push(instance.InstanceId!);
  return { instanceID: instance.InstanceId!, privateIP: instance.PrivateIpAddress! };
}

async function inContainer(instanceID: string, ...command: string[]): Promise<string> {
  return (await docker(["exec", player.containerOf(instanceID)!, ...command])).stdout;
}

describe("moto with the harness's AMIs", () => {
  test("lists Canonical's Ubuntu 22.04 AMIs by owner and name", async () => {
    const { Images } = await ec2.send(
      new DescribeImagesCommand({ Owners: [canonicalOwnerID], Filters: [{ Name: "name", Values: ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"] }] }),
    );
    const newest = Images!.sort((left, right) => right.CreationDate!.localeCompare(left.CreationDate!))[0];
    expect(Images).toHaveLength(3);
    expect(newest?.ImageId).toBe(ubuntuJammyAMIID);
  });
});

describe("instance player", () => {
  test("boots an instance with real cloud-init and its user-data, reachable over SSH through the bastion", async () => {
    const key = generateSSHKeyPair();
    const { instanceID, privateIP } = await launch(
      ubuntuJammyAMIID,
      [
        "#cloud-config",
        "users:",
        "  - default",
        "  - name: tester",
        `    ssh_authorized_keys: ["${key.publicKey}"]`,
        "write_files:",
        "  - path: /etc/ciab-harness-test",
        "    content: written by cloud-init",
      ].join("\n"),
    );
    const boot = await player.waitForBoot(instanceID);
    expect(boot.stages.filter((stage) => stage.exitCode !== 0)).toEqual([]);
    await inContainer(instanceID, "test", "-f", "/var/lib/cloud/instance/boot-finished");
    expect(await inContainer(instanceID, "cat", "/etc/ciab-harness-test")).toBe("written by cloud-init");
    const id = await runThroughBastion(player.bastion, { privateIP, user: "tester", privateKey: key.privateKey, command: "id -un" });
    expect(id.trim()).toBe("tester");
    console.log(`boot to cloud-init done: ${boot.milliseconds} ms (${boot.stages.map((stage) => `${stage.name} ${stage.milliseconds}`).join(", ")})`);
  });

  test("the bastion refuses an address no running instance has, and a wrong key", async () => {
    const key = generateSSHKeyPair();
    await expect(runThroughBastion(player.bastion, { privateIP: "10.255.255.254", user: "admin", privateKey: key.privateKey, command: "true" })).rejects.toThrow();
    await expect(
      runThroughBastion({ ...player.bastion, privateKey: key.privateKey }, { privateIP: "10.255.255.254", user: "admin", privateKey: key.privateKey, command: "true" }),
    ).rejects.toThrow(/authentication/i);
  });

  test("the pre-built AMI has agentd; a unit the user-data enables comes back after a stop and start; terminate removes", async () => {
    const { instanceID } = await launch(
      agentAMIID,
      [
        "#cloud-config",
        "write_files:",
        "  - path: /etc/systemd/system/ciab-agentd.service",
        "    content: |",
        "      [Service]",
        "      User=admin",
        "      RuntimeDirectory=ciab",
        "      ExecStart=/opt/ciab/bin/node /opt/ciab/bin/ciab-agentd.js --socket /run/ciab/agentd.sock --workspace-root /home/admin",
        "      Restart=on-failure",
        "runcmd:",
        "  - [systemctl, daemon-reload]",
        "  - [systemctl, enable, --now, ciab-agentd.service]",
      ].join("\n"),
    );
    await player.waitForBoot(instanceID);
    const socketOwner = () => inContainer(instanceID, "sh", "-c", "for i in $(seq 50); do [ -S /run/ciab/agentd.sock ] && break; sleep 0.1; done; stat -c %U /run/ciab/agentd.sock");
    expect((await socketOwner()).trim()).toBe("admin");

    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceID] }));
    await player.waitFor(instanceID, (instance) => instance.containerState === "stopped");
    const stopped = await docker(["inspect", "--format", "{{ .State.Running }}", player.containerOf(instanceID)!]);
    expect(stopped.stdout.trim()).toBe("false");

    await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceID] }));
    const second = await player.waitForBoot(instanceID, { number: 2 });
    expect(second.stages.filter((stage) => stage.exitCode !== 0)).toEqual([]);
    expect((await socketOwner()).trim()).toBe("admin");

    const container = player.containerOf(instanceID)!;
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceID] }));
    await player.waitFor(instanceID, (instance) => instance.containerState === "removed");
    await expect(docker(["inspect", container])).rejects.toThrow(/No such/);
  });

  test("a new player removes the containers a player whose process died left behind", async () => {
    const deadPID = "4194303";
    const { stdout } = await docker(["create", "--label", "ciab.harness=instance-player", "--label", `ciab.player-pid=${deadPID}`, plainAMIImage]);
    const second = await startInstancePlayer({ endpoint: moto.endpoint });
    await second.close();
    await expect(docker(["inspect", stdout.trim()])).rejects.toThrow(/No such/);
    expect(player.failedPolls).toBe(0);
  });

  test("tolerates moto stopping, and close() leaves no container", async () => {
    const { instanceID } = await launch(ubuntuJammyAMIID, "#cloud-config\n");
    await player.waitFor(instanceID, (instance) => instance.container !== undefined);
    await moto.stop();
    const deadline = Date.now() + 5_000;
    while (player.failedPolls < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(player.failedPolls).toBeGreaterThanOrEqual(2);
    await player.close();
    for (const instanceID of launched) {
      const { stdout } = await docker(["ps", "--all", "--quiet", "--filter", `label=ciab.instance-id=${instanceID}`]);
      expect(stdout.trim()).toBe("");
    }
  });
});
