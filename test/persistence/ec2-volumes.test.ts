import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { DescribeInstancesCommand, DescribeVolumesCommand, type EC2Client, type Volume } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  agentAMIID,
  ensureAgentAMIImage,
  harnessEC2Client,
  startFaultEndpoint,
  startInstancePlayer,
  startMoto,
  type FaultEndpoint,
  type InstancePlayer,
  type Moto,
} from "../harness/aws/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { agentdBundlePath } from "../runtimes/test-dependencies.js";
import { bastionEnv } from "../runtimes/ec2-test-env.js";

/**
 * `persistent-volume` on ec2: a user's EBS volume (gp3, encrypted, tagged with its owners) made in a zone
 * the instance then launches in, attached at /dev/sdf and mounted at /workspace through agentd. moto records
 * the attachment and the instance player makes it real: the volume is a sparse file on this host, attached
 * as a loop device that appears in the instance's container as /dev/xvdf, so the product's own mount script
 * finds, formats and mounts it as on a Xen instance.
 */
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let moto: Moto;
let player: InstancePlayer;
let aws: EC2Client;
let endpoint: FaultEndpoint;
let server: TestServer;
let ownerToken: string;
let memberToken: string;
/** Set by a test: the server's AttachVolume calls are refused as AWS refuses an attachment in use. */
let refuseAttach = false;

async function ebsVolumeOf(volumeID: string): Promise<Volume | undefined> {
  const output = await aws.send(new DescribeVolumesCommand({ Filters: [{ Name: "tag:ciab-volume-id", Values: [volumeID] }] }));
  return output.Volumes?.[0];
}

/** One API call as the volume owner (a workspace admin) or, with `token`, someone else. */
function api(method: string, route: string, body?: unknown, token = ownerToken) {
  return server.api(method, route, body, { token });
}

async function run(sandboxID: string, script: string, token = ownerToken): Promise<{ exit_code: number; stdout: string; stderr: string }> {
  const answer = await api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", script] }, token);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

function createSandbox(body: Record<string, unknown>, token = ownerToken) {
  return api("POST", "/sandboxes", { runtime: "ec2", persistence: "persistent-volume", ...body }, token);
}

beforeAll(async () => {
  await ensureAgentAMIImage({ agentdBundlePath, nodeBinaryPath: process.execPath });
  moto = await startMoto();
  player = await startInstancePlayer({ endpoint: moto.endpoint, pollIntervalMs: 200 });
  aws = harnessEC2Client(moto.endpoint);
  endpoint = await startFaultEndpoint(moto.endpoint, (action) =>
    refuseAttach && action === "AttachVolume"
      ? { kind: "refuse", status: 400, code: "VolumeInUse", message: "vol is already attached to an instance" }
      : { kind: "forward" },
  );
  server = await startTestServer({
    env: {
      CIAB_RUNTIME: "ec2",
      CIAB_EC2_ENDPOINT: endpoint.endpoint,
      CIAB_EC2_AMI_ID: agentAMIID,
      CIAB_RUNTIME_EC2_SSH_USER: "admin",
      CIAB_RUNTIME_EC2_VOLUME_SIZE_GB: "1",
      CIAB_RUNTIME_EC2_INSTANCE_READY_TIMEOUT_SECS: "60",
      CIAB_RUNTIME_EC2_SSH_TIMEOUT_SECS: "90",
      ...bastionEnv(player.bastion),
    },
  });
  const me = await server.api("POST", "/workspaces", { name: "ebs-team", role: "admin" });
  ownerToken = me.body.token;
  const member = await api("POST", `/workspaces/${me.body.workspace.id}/users`, { name: "bob", role: "member" });
  expect(member.status, JSON.stringify(member.body)).toBe(201);
  memberToken = member.body.token;
}, 240_000);

afterAll(async () => {
  if (ownerToken !== undefined) {
    for (const sandbox of (await api("GET", "/sandboxes?all=true")).body.sandboxes ?? []) await api("DELETE", `/sandboxes/${sandbox.id}`);
    for (const volume of (await api("GET", "/volumes")).body.volumes ?? []) await api("DELETE", `/volumes/${volume.id}`);
  }
  await server?.close();
  await endpoint?.close();
  aws?.destroy();
  await player?.close();
  await moto?.stop();
});

describe("persistent volumes on ec2", () => {
  test("the user's EBS volume keeps /workspace across sandboxes, one sandbox at a time, and goes with its record", async () => {
    const first = await createSandbox({});
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const volumeID = first.body.volume_id as string;
    expect(volumeID).toMatch(/^vol_/);

    const ebs = (await ebsVolumeOf(volumeID))!;
    expect(ebs).toMatchObject({ Size: 1, VolumeType: "gp3", Encrypted: true, State: "in-use" });
    const tags = Object.fromEntries(ebs.Tags!.map((tag) => [tag.Key, tag.Value]));
    expect(tags).toMatchObject({ "ciab-managed": "true", "ciab-volume-id": volumeID, "ciab-user-id": expect.stringMatching(/^usr_/), "ciab-workspace-id": expect.stringMatching(/^ws_/) });
    const attachment = ebs.Attachments![0]!;
    expect(attachment.Device).toBe("/dev/sdf");
    const instances = await aws.send(new DescribeInstancesCommand({ InstanceIds: [attachment.InstanceId!] }));
    expect(instances.Reservations![0]!.Instances![0]!.Placement!.AvailabilityZone).toBe(ebs.AvailabilityZone);

    // The product found the Xen name of /dev/sdf, formatted the blank volume and mounted it.
    const mounted = await run(first.body.id, "findmnt -n -o SOURCE,FSTYPE /workspace && stat -c %U /workspace");
    expect(mounted.stdout.split(/\s+/).filter(Boolean)).toEqual(["/dev/xvdf", "ext4", "admin"]);
    await run(first.body.id, "mkdir -p src && printf kept > src/file");

    const twice = await createSandbox({});
    expect([twice.status, twice.body.error?.code]).toEqual([409, "volume_in_use"]);

    // The end of the sandbox detaches the volume before anything else may attach it.
    expect((await api("DELETE", `/sandboxes/${first.body.id}`)).status).toBe(200);
    const detached = (await ebsVolumeOf(volumeID))!;
    expect([detached.State, detached.Attachments ?? []]).toEqual(["available", []]);

    // Two sandboxes race for it: one mounts it, the other is refused before its row exists.
    const racing = await Promise.all([createSandbox({}), createSandbox({ volume: volumeID })]);
    const statuses = racing.map((answer) => answer.status).sort();
    expect(statuses, JSON.stringify(racing.map((answer) => answer.body))).toEqual([201, 409]);
    const winner = racing.find((answer) => answer.status === 201)!.body;
    expect(winner.volume_id).toBe(volumeID);
    expect((await run(winner.id, "cat src/file")).stdout).toBe("kept");
    // Not formatted again: the same filesystem, the same file.
    expect((await run(winner.id, "findmnt -n -o SOURCE /workspace")).stdout.trim()).toBe("/dev/xvdf");

    expect((await api("DELETE", `/volumes/${volumeID}`)).body.error?.code).toBe("volume_in_use");
    expect((await api("DELETE", `/sandboxes/${winner.id}`)).status).toBe(200);
    const ebsVolumeID = ebs.VolumeId!;
    expect((await api("DELETE", `/volumes/${volumeID}`)).status).toBe(200);
    expect(await ebsVolumeOf(volumeID)).toBeUndefined();
    await expect(aws.send(new DescribeVolumesCommand({ VolumeIds: [ebsVolumeID] }))).rejects.toMatchObject({ name: "InvalidVolume.NotFound" });
  }, 300_000);

  test("a file a session writes is there in the same user's next session that opts in", async () => {
    const prompt = "echo run >> /workspace/log; wc -l < /workspace/log";
    const outputs: string[] = [];
    for (let round = 0; round < 2; round++) {
      const created = await api("POST", "/sessions", { provider: "shell", runtime: "ec2", prompt, persistence: "persistent-volume" });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const deadline = Date.now() + 180_000;
      let session = created.body;
      while (!["completed", "failed", "cancelled"].includes(session.state) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        session = (await api("GET", `/sessions/${created.body.id}`)).body;
      }
      expect(session.state, JSON.stringify(session)).toBe("completed");
      const events = await api("GET", `/sessions/${created.body.id}/events`);
      outputs.push(
        (events.body.events as { type: string; data: { data?: string; text?: string } }[])
          .map((event) => (event.type === "shell.output" ? Buffer.from(event.data.data ?? "", "base64").toString() : (event.data.text ?? "")))
          .join(""),
      );
      // Its sandbox ends with the session and detaches the volume for the next one.
      let sandbox = (await api("GET", `/sandboxes/${session.sandbox_id}`)).body;
      while (sandbox.state !== "terminated" && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        sandbox = (await api("GET", `/sandboxes/${session.sandbox_id}`)).body;
      }
      expect(sandbox.state).toBe("terminated");
      expect((await ebsVolumeOf(sandbox.volume_id))!.State).toBe("available");
    }
    expect(outputs[0]).toContain("1");
    expect(outputs[1]).toContain("2");
    const volumes = (await api("GET", "/volumes")).body.volumes;
    expect(volumes).toHaveLength(1);
    expect((await api("DELETE", `/volumes/${volumes[0].id}`)).status).toBe(200);
  }, 400_000);

  test("another user's sandbox gets a volume of its own, never the first user's", async () => {
    const mine = await createSandbox({});
    expect(mine.status, JSON.stringify(mine.body)).toBe(201);
    await run(mine.body.id, "printf mine > secret");
    await api("DELETE", `/sandboxes/${mine.body.id}`);

    const theirs = await createSandbox({ volume: mine.body.volume_id }, memberToken);
    expect([theirs.status, theirs.body.error?.code]).toEqual([404, "not_found"]);
    const own = await createSandbox({}, memberToken);
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(own.body.volume_id).not.toBe(mine.body.volume_id);
    const listing = await run(own.body.id, "ls -A /workspace | grep -v lost+found; test ! -e /workspace/secret", memberToken);
    expect([listing.exit_code, listing.stdout]).toEqual([0, ""]);
    const tags = Object.fromEntries((await ebsVolumeOf(own.body.volume_id))!.Tags!.map((tag) => [tag.Key, tag.Value]));
    expect(tags["ciab-user-id"]).not.toBe(Object.fromEntries((await ebsVolumeOf(mine.body.volume_id))!.Tags!.map((tag) => [tag.Key, tag.Value]))["ciab-user-id"]);

    await api("DELETE", `/sandboxes/${own.body.id}`, undefined, memberToken);
    expect((await api("DELETE", `/volumes/${own.body.volume_id}`, undefined, memberToken)).status).toBe(200);
    expect((await api("DELETE", `/volumes/${mine.body.volume_id}`)).status).toBe(200);
  }, 300_000);

  test("AttachVolume refused: the sandbox fails with AWS's code, its instance goes, the volume stays free", async () => {
    const made = await createSandbox({});
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const volumeID = made.body.volume_id as string;
    await api("DELETE", `/sandboxes/${made.body.id}`);
    refuseAttach = true;
    try {
      const refused = await createSandbox({ volume: volumeID });
      expect(refused.body.error, JSON.stringify(refused.body)).toMatchObject({ code: "sandbox_failed", context: { aws_code: "VolumeInUse" } });
    } finally {
      refuseAttach = false;
    }
    const failed = (await api("GET", "/sandboxes?all=true")).body.sandboxes.find(
      (sandbox: { id: string; state: string; volume_id: string | null }) => sandbox.state === "failed" && sandbox.volume_id === volumeID,
    );
    expect(failed.failure).toMatchObject({ reason: "provision_failed", aws_code: "VolumeInUse" });
    const live = await aws.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag:ciab-sandbox-id", Values: [failed.id] },
          { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
        ],
      }),
    );
    expect(live.Reservations ?? []).toEqual([]);
    expect((await api("GET", `/volumes/${volumeID}`)).body).toMatchObject({ state: "available", sandbox_id: null });
    expect((await ebsVolumeOf(volumeID))!.State).toBe("available");
    expect((await api("DELETE", `/volumes/${volumeID}`)).status).toBe(200);
  }, 300_000);

  test("a paused sandbox's instance stops with its volume attached; resume mounts it again", async () => {
    const made = await createSandbox({});
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    await run(made.body.id, "printf before-pause > note");
    expect((await api("POST", `/sandboxes/${made.body.id}/pause`)).status).toBe(200);
    expect((await ebsVolumeOf(made.body.volume_id))!.State).toBe("in-use");
    const resumed = await api("POST", `/sandboxes/${made.body.id}/resume`);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect((await run(made.body.id, "findmnt -n -o SOURCE /workspace && cat note")).stdout).toBe("/dev/xvdf\nbefore-pause");
    await api("DELETE", `/sandboxes/${made.body.id}`);
    expect((await api("DELETE", `/volumes/${made.body.volume_id}`)).status).toBe(200);
  }, 300_000);

  test("a volume whose device holds data no filesystem names is never formatted: the sandbox fails unmounted", async () => {
    const made = await createSandbox({});
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const volumeID = made.body.volume_id as string;
    await api("DELETE", `/sandboxes/${made.body.id}`);
    // Its bytes, on this host, lose their superblock: what is left is data blkid cannot name.
    const file = player.volumeFile((await ebsVolumeOf(volumeID))!.VolumeId!);
    const noise = randomBytes(1024 * 1024);
    const handle = await open(file, "r+");
    await handle.write(noise, 0, noise.length, 0);
    await handle.close();

    const refused = await createSandbox({ volume: volumeID });
    expect(refused.body.error?.code, JSON.stringify(refused.body)).toBe("sandbox_failed");
    expect(refused.body.error.message).toContain("refusing to format");
    const head = Buffer.alloc(noise.length);
    const reader = await open(file, "r");
    await reader.read(head, 0, head.length, 0);
    await reader.close();
    expect(head.equals(noise)).toBe(true);
    expect((await ebsVolumeOf(volumeID))!.State).toBe("available");
    expect((await api("DELETE", `/volumes/${volumeID}`)).status).toBe(200);
  }, 300_000);
});
