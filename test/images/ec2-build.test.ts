import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DescribeImagesCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSecurityGroupsCommand, DescribeSnapshotsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { agentdBundlePath } from "../runtimes/test-dependencies.js";
import { ensureAgentAMIImage, generateSSHKeyPair, harnessEC2Client, startInstancePlayer, startMoto, type InstancePlayer, type Moto } from "../harness/aws/index.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { bastionEnv } from "../runtimes/ec2-test-env.js";

Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

/**
 * builtin://default-ec2 with Packer's amazon-ebs against moto_server: the build instance is an emulated
 * instance (a container with real cloud-init and sshd) reached through the harness's bastion on loopback,
 * with a key of ours authorized by user-data (docs/decisions/0031-packer-against-moto.md).
 */
describe("builtin://default-ec2 against moto", () => {
  const temp = makeTempDirectory("ciab-packer-ec2-");
  let moto: Moto;
  let player: InstancePlayer;
  let aws: EC2Client;
  let server: TestServer;
  let build: { id: string; state: string; image_id: string | null; error: string | null };
  let amiID = "";
  let buildVars: Record<string, string> = {};
  let serverEnv: Record<string, string> = {};

  beforeAll(async () => {
    await ensureAgentAMIImage({ agentdBundlePath, nodeBinaryPath: process.execPath });
    moto = await startMoto();
    player = await startInstancePlayer({ endpoint: moto.endpoint, pollIntervalMs: 200 });
    aws = harnessEC2Client(moto.endpoint);
    const bastionKey = path.join(temp.path, "bastion.key");
    writeFileSync(bastionKey, player.bastion.privateKey, { mode: 0o600 });
    serverEnv = {
        CIAB_RUNTIME: "ec2",
        CIAB_EC2_ENDPOINT: moto.endpoint,
        CIAB_RUNTIME_EC2_SSH_USER: "admin",
        ...bastionEnv(player.bastion),
        CIAB_PACKER_ENDPOINT: moto.endpoint,
        CIAB_PACKER_BASTION: `${player.bastion.user}@${player.bastion.host}:${player.bastion.port}`,
        CIAB_PACKER_BASTION_PRIVATE_KEY_FILE: bastionKey,
        CIAB_PACKER_WORK_DIR: path.join(temp.path, "work"),
        // Packer retries its cleanup calls for minutes against a moto that is gone; a cancel cuts that short.
        CIAB_PACKER_CLEANUP_GRACE_SECS: "5",
    };
    server = await startTestServer({ dataDirectory: path.join(temp.path, "data"), env: serverEnv });
    const key = generateSSHKeyPair();
    const buildKey = path.join(temp.path, "build.key");
    writeFileSync(buildKey, key.privateKey, { mode: 0o600 });
    const userData = ["#cloud-config", "users:", "  - name: builder", "    sudo: ALL=(ALL) NOPASSWD:ALL", "    shell: /bin/bash", `    ssh_authorized_keys: ["${key.publicKey}"]`].join("\n");
    buildVars = { ssh_username: "builder", ssh_private_key_file: buildKey, user_data: userData, install_toolchains: "false" };
    const answer = await server.api("POST", "/images/build", {
      template: "builtin://default-ec2",
      provider: "claude-code",
      vars: buildVars,
      wait: true,
    });
    build = answer.body;
    amiID = (await server.api("GET", `/images/${build.image_id}`)).body.reference;
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    aws?.destroy();
    await player?.close();
    await moto?.stop();
    temp.remove();
  });

  test("the build registers a tagged AMI in moto and cleans up its instance and security group", async () => {
    expect(build.error).toBeNull();
    expect(build.state).toBe("succeeded");
    const listed = await server.api("GET", "/images?region=us-east-1&provider=claude-code");
    expect(listed.body.images).toEqual([expect.objectContaining({ id: build.image_id, runtime: "ec2", region: "us-east-1", reference: expect.stringMatching(/^ami-/) })]);
    const { Images = [] } = await aws.send(new DescribeImagesCommand({ ImageIds: [amiID] }));
    expect(Images[0]?.Name).toBe(`ciab-agent-claude-code-${build.id}`);
    expect(Images[0]?.Tags).toEqual(expect.arrayContaining([{ Key: "ciab-build-id", Value: build.id }, { Key: "ciab-managed", Value: "true" }]));
    const reservations = await aws.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:ciab-build-id", Values: [build.id] }] }));
    const states = (reservations.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).map((instance) => instance.State?.Name);
    expect(states).toEqual(["terminated"]);
    const groups = await aws.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["packer_*"] }] }));
    expect(groups.SecurityGroups ?? []).toEqual([]);
    const log = await fetch(`${server.url}/api/v1/images/builds/${build.id}/logs`, { headers: { authorization: `Bearer ${server.token}` } }).then((response) => response.text());
    expect(log).toMatch(/Connected to SSH!/);
    expect(log).toMatch(/Uploading .*node => \/tmp\/ciab-node/);
  });

  test("a sandbox on ec2 boots from the built image", async () => {
    const created = await server.api("POST", "/sandboxes", { runtime: "ec2", image: build.image_id });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.image).toBe(amiID);
    const probe = await server.api("POST", `/sandboxes/${created.body.id}/exec`, { command: ["sh", "-c", "test -x /opt/ciab/bin/node && echo ok"] });
    expect(probe.body.stdout).toBe("ok\n");
    await server.api("DELETE", `/sandboxes/${created.body.id}`);
    expect((await server.api("POST", "/sandboxes", { runtime: "docker", image: build.image_id })).status).toBeGreaterThanOrEqual(400);
  });

  test("[runtime.ec2] default_ami may name the built image", async () => {
    await server.close();
    server = await startTestServer({ dataDirectory: path.join(temp.path, "data"), env: { ...serverEnv, CIAB_RUNTIME_EC2_DEFAULT_AMI: build.image_id! } });
    const created = await server.api("POST", "/sandboxes", { runtime: "ec2" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.image).toBe(amiID);
    await server.api("DELETE", `/sandboxes/${created.body.id}`);
  });

  test("delete deregisters the AMI and deletes its snapshot", async () => {
    const { Images = [] } = await aws.send(new DescribeImagesCommand({ ImageIds: [amiID] }));
    const snapshots = (Images[0]?.BlockDeviceMappings ?? []).flatMap((mapping) => (mapping.Ebs?.SnapshotId ? [mapping.Ebs.SnapshotId] : []));
    expect(snapshots.length).toBeGreaterThan(0);
    expect((await server.api("DELETE", `/images/${build.image_id}`)).status).toBe(200);
    const after = await aws.send(new DescribeImagesCommand({ Owners: ["self"] }));
    expect((after.Images ?? []).map((image) => image.ImageId)).not.toContain(amiID);
    const left = await aws.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
    expect((left.Snapshots ?? []).map((snapshot) => snapshot.SnapshotId)).not.toEqual(expect.arrayContaining(snapshots));
  });

  test("a cancelled build: Packer terminates its instance and deletes its temporary key pair and security group", async () => {
    await server.close();
    server = await startTestServer({ dataDirectory: path.join(temp.path, "data"), env: { ...serverEnv, CIAB_PACKER_CLEANUP_GRACE_SECS: "120" } });
    try {
      // Without a key of ours Packer makes a temporary key pair, which the emulation never authorizes: the
      // build waits for SSH until it is cancelled.
      const started = await server.api("POST", "/images/build", { template: "builtin://default-ec2", provider: "gemini-cli", vars: { install_toolchains: "false" } });
      const id = started.body.id as string;
      let step = "";
      const deadline = Date.now() + 120_000;
      while (!/Waiting for SSH/.test(step) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        step = (await server.api("GET", `/images/builds/${id}`)).body.step ?? "";
      }
      expect(step).toMatch(/Waiting for SSH/);
      const made = await aws.send(new DescribeKeyPairsCommand({}));
      expect((made.KeyPairs ?? []).map((pair) => pair.KeyName)).toEqual(expect.arrayContaining([expect.stringMatching(/^packer_/)]));
      const cancelled = await server.api("POST", `/images/builds/${id}/cancel`);
      expect(cancelled.body).toMatchObject({ state: "failed", error: expect.stringMatching(/^the build was cancelled/) });
      const reservations = await aws.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:ciab-build-id", Values: [id] }] }));
      const states = (reservations.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).map((instance) => instance.State?.Name);
      expect(states).toEqual(["terminated"]);
      expect((await aws.send(new DescribeKeyPairsCommand({}))).KeyPairs?.filter((pair) => pair.KeyName?.startsWith("packer_"))).toEqual([]);
      const groups = await aws.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["packer_*"] }] }));
      expect(groups.SecurityGroups ?? []).toEqual([]);
    } finally {
      await server.close();
      server = await startTestServer({ dataDirectory: path.join(temp.path, "data"), env: serverEnv });
    }
  }, 300_000);

  test("moto going down mid-build fails the build with Packer's message and leaves no Packer running", async () => {
    const started = await server.api("POST", "/images/build", { template: "builtin://default-ec2", provider: "codex", vars: buildVars });
    const id = started.body.id as string;
    const deadline = Date.now() + 120_000;
    let step = "";
    while (!/Waiting for SSH|Connected to SSH|Provisioning|Uploading/.test(step) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      step = (await server.api("GET", `/images/builds/${id}`)).body.step ?? "";
    }
    await moto.stop();
    const logFile = path.join(server.dataDirectory, "image-builds", `${id}.log`);
    // Packer retries against the dead endpoint for minutes; once it has said so (or after 30 s), the build is cancelled.
    const noticeDeadline = Date.now() + 30_000;
    while (!/connection refused|send request failed/.test(readFileSync(logFile, "utf8")) && Date.now() < noticeDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await server.api("POST", `/images/builds/${id}/cancel`);
    let done = (await server.api("GET", `/images/builds/${id}`)).body;
    const endDeadline = Date.now() + 90_000;
    while (done.state !== "failed" && done.state !== "succeeded" && Date.now() < endDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      done = (await server.api("GET", `/images/builds/${id}`)).body;
    }
    expect(done.state).toBe("failed");
    // Packer's own words: the failed call, or the cancel with what Packer last said.
    expect(done.error).toMatch(/connection refused|send request failed|cancelled; packer said/);
    const work = path.join(temp.path, "work", id);
    const inBuild = readdirSync("/proc").filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`).startsWith(work);
      } catch {
        return false;
      }
    });
    expect(inBuild).toEqual([]);
  }, 400_000);
});
