import { execFile, execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DescribeVolumesCommand, StartInstancesCommand, StopInstancesCommand, type EC2Client, type Volume } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, expect, test } from "vitest";
import { agentAMIID, ensureAgentAMIImage, harnessEC2Client, startInstancePlayer, startMoto, type InstancePlayer, type Moto } from "../harness/aws/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { agentdBundlePath } from "../runtimes/test-dependencies.js";
import { bastionEnv } from "../runtimes/ec2-test-env.js";

/**
 * An EBS volume in everyday use (docs/decisions/0044-volume-handover-and-remount.md): made at the size the
 * first request asks, mounted again by the instance itself after a stop and start nobody asked ciab for,
 * and handed to the next sandbox while the one before is still detaching it.
 */
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");

let moto: Moto;
let player: InstancePlayer;
let aws: EC2Client;
let server: TestServer;

async function ebsVolumeOf(volumeID: string): Promise<Volume> {
  const output = await aws.send(new DescribeVolumesCommand({ Filters: [{ Name: "tag:ciab-volume-id", Values: [volumeID] }] }));
  return output.Volumes![0]!;
}

async function run(sandboxID: string, script: string): Promise<string> {
  const answer = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", script] });
  expect(answer.body.exit_code, JSON.stringify(answer.body)).toBe(0);
  return answer.body.stdout as string;
}

beforeAll(async () => {
  await ensureAgentAMIImage({ agentdBundlePath, nodeBinaryPath: process.execPath });
  moto = await startMoto();
  player = await startInstancePlayer({ endpoint: moto.endpoint, pollIntervalMs: 200 });
  aws = harnessEC2Client(moto.endpoint);
  server = await startTestServer({
    env: {
      CIAB_RUNTIME: "ec2",
      CIAB_EC2_ENDPOINT: moto.endpoint,
      CIAB_EC2_AMI_ID: agentAMIID,
      CIAB_RUNTIME_EC2_SSH_USER: "admin",
      CIAB_RUNTIME_EC2_VOLUME_SIZE_GB: "1",
      CIAB_RUNTIME_VOLUME_MAX_SIZE_GIB: "4",
      CIAB_RUNTIME_EC2_INSTANCE_READY_TIMEOUT_SECS: "60",
      CIAB_RUNTIME_EC2_SSH_TIMEOUT_SECS: "90",
      ...bastionEnv(player.bastion),
    },
  });
}, 240_000);

afterAll(async () => {
  for (const sandbox of (await server?.api("GET", "/sandboxes"))?.body.sandboxes ?? []) await server.api("DELETE", `/sandboxes/${sandbox.id}`);
  for (const volume of (await server?.api("GET", "/volumes"))?.body.volumes ?? []) await server.api("DELETE", `/volumes/${volume.id}`);
  await server?.close();
  aws?.destroy();
  await player?.close();
  await moto?.stop();
});

test("sized on first use, mounted again by the instance after a restart, handed over while still detaching", async () => {
  const tooBig = await server.api("POST", "/sandboxes", { runtime: "ec2", persistence: "persistent-volume", volume_size_gib: 5 });
  expect([tooBig.status, tooBig.body.error?.code]).toEqual([400, "invalid_request"]);
  const first = await server.api("POST", "/sandboxes", { runtime: "ec2", persistence: "persistent-volume", volume_size_gib: 2 });
  expect(first.status, JSON.stringify(first.body)).toBe(201);
  expect(first.body.notes).toBeUndefined();
  const volumeID = first.body.volume_id as string;
  const ebs = await ebsVolumeOf(volumeID);
  expect(ebs.Size).toBe(2);
  expect((await server.api("GET", `/volumes/${volumeID}`)).body.size_gib).toBe(2);
  await run(first.body.id, "printf kept > file");
  expect(await run(first.body.id, "grep ' /workspace ' /etc/fstab")).toBe(
    "/dev/xvdf /workspace ext4 nodev,nosuid,nofail,x-systemd.device-timeout=120s,x-systemd.before=ciab-agentd.service 0 2\n",
  );

  // Stopped and started behind ciab's back: the instance mounts its volume again on its own, before agentd.
  const instanceID = ebs.Attachments![0]!.InstanceId!;
  await aws.send(new StopInstancesCommand({ InstanceIds: [instanceID] }));
  await player.waitFor(instanceID, (instance) => instance.containerState === "stopped", 60_000);
  await aws.send(new StartInstancesCommand({ InstanceIds: [instanceID] }));
  const boot = await player.waitForBoot(instanceID, { number: 2, timeoutMs: 180_000 });
  expect(boot.stages.filter((stage) => stage.exitCode !== 0)).toEqual([]);
  const container = player.containerOf(instanceID)!;
  const inside = execFileSync("docker", ["exec", container, "sh", "-c", "findmnt -n -o SOURCE,OPTIONS /workspace; cat /workspace/file"], { encoding: "utf8" });
  expect(inside).toMatch(/^\/dev\/xvdf\s+\S*nosuid,nodev\S*\nkept$/);

  // The next sandbox is asked for while the first one is still being deleted (unmount, detach, terminate).
  const deleting = server.api("DELETE", `/sandboxes/${first.body.id}`);
  const deadline = Date.now() + 30_000;
  while ((await server.api("GET", `/sandboxes/${first.body.id}`)).body.state === "ready" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const next = await server.api("POST", "/sandboxes", { runtime: "ec2", persistence: "persistent-volume", volume_size_gib: 3 });
  expect(next.status, JSON.stringify(next.body)).toBe(201);
  expect(next.body).toMatchObject({ volume_id: volumeID, notes: [`volume_size_gib ignored: volume ${volumeID} exists and keeps its size (2 GiB)`] });
  expect((await deleting).body.state).toBe("terminated");
  expect((await ebsVolumeOf(volumeID)).Size).toBe(2);
  expect(await run(next.body.id, "cat file; grep -c ' /workspace ' /etc/fstab")).toBe("kept1\n");

  await server.api("DELETE", `/sandboxes/${next.body.id}`);
  expect((await server.api("DELETE", `/volumes/${volumeID}`)).status).toBe(200);
}, 600_000);

test("two `ciab run` on ec2 back to back share the volume: the second waits while the first's instance lets it go", async () => {
  // Not spawnSync: the server answers from this process's event loop.
  const ciab = (script: string) =>
    promisify(execFile)(process.execPath, [cli, "run", "--provider", "shell", "--runtime", "ec2", "--persistence", "persistent-volume", script], {
      env: { ...process.env, CIAB_URL: server.url, CIAB_TOKEN: server.token },
      encoding: "utf8",
      timeout: 240_000,
    });
  const first = await ciab("echo first >> /workspace/log");
  expect(first.stderr).toContain("session ses_");
  // The first run's sandbox is still unmounting and detaching its EBS volume when this one asks for it.
  const [volume] = (await server.api("GET", "/volumes")).body.volumes;
  expect(volume).toMatchObject({ state: "in_use" });
  const second = await ciab("cat /workspace/log");
  expect(second.stdout).toContain("first");
  const sessions = (await server.api("GET", "/sessions")).body.sessions as { state: string }[];
  expect(sessions.slice(0, 2).map((session) => session.state)).toEqual(["completed", "completed"]);
}, 600_000);
