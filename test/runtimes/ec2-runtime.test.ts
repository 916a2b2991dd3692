import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDataKey } from "../../packages/server/src/data-key.js";
import { ec2RuntimeSchema, type EC2RuntimeConfig } from "../../packages/server/src/runtimes/ec2/ec2-runtime-config.js";
import { createEC2Runtime } from "../../packages/server/src/runtimes/ec2/index.js";
import { generateSSHKeyPair } from "../../packages/server/src/runtimes/ec2/ssh-key-pair.js";
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, ImportKeyPairCommand } from "@aws-sdk/client-ec2";
import { agentAMIID, ubuntuJammyAMIID, startEmulatedEC2, type EmulatedEC2 } from "../harness/aws/index.js";
import { agentClient, waitForHealth } from "./agent-health.js";
import { listenForChannels, type ChannelListener } from "../harness/reverse-channel-dial.js";
import { newSpec, runtimeConformance } from "./runtime-conformance.js";
import { agentdBundlePath, testDependencies } from "./test-dependencies.js";

// ec2 against moto_server and the harness's instance player: each instance is a container booting the
// instance's real user-data with cloud-init, reached over SSH through the harness's bastion on loopback.
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let ec2: EmulatedEC2;
// What instances fetch from the control plane: their env (any AMI), and node, agentd and the tools (a plain one).
let listener: ChannelListener;
const base = { ...testDependencies("ec2"), dataKey: createDataKey(randomBytes(32)) };
const dependencies = { ...base, get machineDownloads() { return listener.machineDownloads; } };
const signal = () => AbortSignal.timeout(120_000);

function config(overrides: Partial<EC2RuntimeConfig> = {}): EC2RuntimeConfig {
  return ec2RuntimeSchema.parse({
    endpoint: ec2.moto.endpoint,
    default_ami: agentAMIID,
    ssh_user: "admin",
    ssh_timeout_secs: 90,
    instance_ready_timeout_secs: 30,
    bastion: {
      host: ec2.player.bastion.host,
      port: ec2.player.bastion.port,
      user: ec2.player.bastion.user,
      private_key: ec2.player.bastion.privateKey,
    },
    ...overrides,
  });
}

beforeAll(async () => {
  ec2 = await startEmulatedEC2({ agentAMI: { agentdBundlePath, nodeBinaryPath: process.execPath } });
  listener = await listenForChannels({ node: process.execPath, agentd: agentdBundlePath, toolsDirectory: base.toolsDirectory });
}, 180_000);

afterAll(async () => {
  await listener?.close();
  await ec2?.close();
  dependencies.removeDataDirectory();
});

runtimeConformance({
  name: "ec2",
  create: async () => {
    const runtime = createEC2Runtime(config(), dependencies);
    return { runtime, cleanup: () => runtime.close() };
  },
  skip: [
    { reason: "an instance has its own network stack in its VPC; network none is not offered", tests: ["network none leaves loopback only"] },
    { reason: "boots take seconds each; measured once below", tests: ["create-to-ready time"] },
  ],
});

describe("ec2 runtime with booting instances", () => {
  test("agentd runs as the SSH user from the unit, and the instance's container goes with the sandbox", async () => {
    const runtime = createEC2Runtime(config(), dependencies);
    const started = performance.now();
    const machine = await runtime.provision(newSpec(), { signal: signal() });
    try {
      const health = await waitForHealth(runtime, machine);
      console.log(`ec2 (emulated): create-to-ready ${(performance.now() - started).toFixed(0)} ms`);
      expect(health.body).toMatchObject({ sandboxID: machine.sandboxID });
      expect(ec2.player.containerOf(machine.machineID)).toBeDefined();
      expect(machine.details).toMatchObject({ instanceType: "t3.medium", sshUser: "admin" });
      expect(JSON.stringify(machine.details)).not.toContain("PRIVATE KEY");
    } finally {
      await runtime.destroy(machine, signal());
      await runtime.close();
    }
    await ec2.player.waitFor(machine.machineID, (instance) => instance.container === undefined, 30_000);
  });

  test("on a plain Ubuntu AMI, cloud-init downloads node, agentd and the tools dir from signed URLs of the control plane", async () => {
    writeFileSync(path.join(base.toolsDirectory, "package-lock.json"), '{ "packages": {} }\n');
    mkdirSync(path.join(base.toolsDirectory, "node_modules", ".bin"), { recursive: true });
    writeFileSync(path.join(base.toolsDirectory, "node_modules", ".bin", "fake-agent"), "#!/bin/sh\necho fake agent\n", { mode: 0o755 });
    const runtime = createEC2Runtime(config({ default_ami: undefined }), dependencies);
    const before = listener.served.length;
    const secret = `s3cret-${randomBytes(8).toString("hex")}`;
    const machine = await runtime.provision(newSpec({ env: { CIAB_TEST: "1", API_SECRET: secret } }), { signal: signal() });
    try {
      expect((await waitForHealth(runtime, machine)).body).toMatchObject({ sandboxID: machine.sandboxID });
      expect(machine.details).toMatchObject({ imageID: ubuntuJammyAMIID });
      // The env reached agentd through the single-use config URL: user-data names only that URL, dead now.
      const attribute = await ec2.aws.send(new DescribeInstanceAttributeCommand({ InstanceId: machine.machineID, Attribute: "userData" }));
      const userData = Buffer.from(attribute.UserData!.Value!, "base64").toString("utf8");
      expect(userData).not.toContain(secret);
      expect(userData).not.toContain("API_SECRET");
      const configURL = /http:\/\/127\.0\.0\.1:\d+\/machine-downloads\/config\?[^"]+/.exec(userData)![0];
      const served = listener.served.slice(before).map((request) => `${request.path} ${request.status}`);
      const replayed = await fetch(configURL);
      expect(replayed.status).toBe(401);
      expect(await replayed.text()).not.toContain(secret);
      expect(served.sort()).toEqual([
        "/machine-downloads/agentd 200",
        "/machine-downloads/config 200",
        "/machine-downloads/node 200",
        "/machine-downloads/tools 200",
      ]);
      const agent = await agentClient(runtime, machine);
      try {
        const ran = await agent.exec({ command: ["fake-agent"] }, signal());
        expect({ exitCode: ran.exitCode, stdout: ran.stdout }).toEqual({ exitCode: 0, stdout: "fake agent\n" });
        const env = await agent.exec({ command: ["printenv", "API_SECRET"] }, signal());
        expect(env.stdout).toBe(`${secret}\n`);
      } finally {
        agent.close();
      }
    } finally {
      await runtime.destroy(machine, signal());
      await runtime.close();
    }
  });

  test("key_pair_name puts that AWS key pair on the AMI's default user and connects with ~/.ssh/<name>.pem; iam_instance_profile is launched with", async () => {
    const keyName = `ciab-test-${randomBytes(4).toString("hex")}`;
    const key = generateSSHKeyPair(keyName);
    await ec2.aws.send(new ImportKeyPairCommand({ KeyName: keyName, PublicKeyMaterial: Buffer.from(key.publicKey) }));
    const profileARN = await createInstanceProfile(ec2.moto.endpoint, "ciab-agent-work");
    const home = mkdtempSync(path.join(os.tmpdir(), "ciab-home-"));
    mkdirSync(path.join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(path.join(home, ".ssh", `${keyName}.pem`), key.privateKey, { mode: 0o600 });
    const previousHome = process.env.HOME;
    process.env.HOME = home;
    const runtime = createEC2Runtime(config({ key_pair_name: keyName, iam_instance_profile: "ciab-agent-work" }), dependencies);
    const machine = await runtime.provision(newSpec(), { signal: signal() });
    try {
      expect((await waitForHealth(runtime, machine)).body).toMatchObject({ sandboxID: machine.sandboxID });
      expect(machine.details).toMatchObject({ keyPairName: keyName, sshUser: "admin" });
      expect(machine.details.sealedPrivateKey).toBeUndefined();
      const described = await ec2.aws.send(new DescribeInstancesCommand({ InstanceIds: [machine.machineID] }));
      const instance = described.Reservations![0]!.Instances![0]!;
      expect(instance.KeyName).toBe(keyName);
      expect(instance.IamInstanceProfile?.Arn).toBe(profileARN);
      const attribute = await ec2.aws.send(new DescribeInstanceAttributeCommand({ InstanceId: machine.machineID, Attribute: "userData" }));
      const userData = Buffer.from(attribute.UserData!.Value!, "base64").toString("utf8");
      expect(JSON.parse(userData.slice("#cloud-config\n".length)).users).toEqual(["default"]);
    } finally {
      process.env.HOME = previousHome;
      await runtime.destroy(machine, signal());
      await runtime.close();
      rmSync(home, { recursive: true, force: true });
    }
  }, 150_000);
});

/** IAM's CreateInstanceProfile on moto (the query API; no IAM client is installed), answering the profile's ARN. */
async function createInstanceProfile(endpoint: string, name: string): Promise<string> {
  const answer = await fetch(endpoint, {
    method: "POST",
    headers: {
      // moto routes by the service in the credential scope and does not check the signature.
      authorization: "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ Action: "CreateInstanceProfile", InstanceProfileName: name, Version: "2010-05-08" }),
  });
  const text = await answer.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
  if (!answer.ok || arn === undefined) throw new Error(`CreateInstanceProfile answered ${answer.status}: ${text.slice(0, 300)}`);
  return arn;
}
