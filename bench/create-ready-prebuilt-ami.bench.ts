// Create-to-ready of ec2 sandboxes (emulated: moto + the instance player) from the AMI that
// builtin://default-ec2 built (agentd and Node baked in: the instance starts agentd from its disk) against
// the plain Ubuntu 22.04 fallback, whose cloud-init downloads Node, agentd and the tools dir (one agent
// CLI, as the image would carry) from the control plane's signed URLs before agentd starts. The emulation
// keeps no disk: an AMI named `ciab-agent-*` boots the harness's agent image (docs/decisions/0031).
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { packageClosure } from "../packages/server/src/services/machine-tools.js";
import { ensureAgentAMIImage, generateSSHKeyPair, harnessEC2Client, startInstancePlayer, startMoto } from "../test/harness/aws/index.js";
import { makeTempDirectory } from "../test/harness/temp-directory.js";
import { bastionEnv, freePort } from "../test/runtimes/ec2-test-env.js";
import { agentdBundlePath } from "../test/runtimes/test-dependencies.js";
import { startBenchServer } from "./bench-server.js";
import { execFileAsync, report } from "./measure.js";

Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });
// Each sample boots a container with cloud-init; the on-boot side also moves and unpacks the tools tarball.
const samples = Math.min(5, Math.max(3, Number(process.env.CIAB_BENCH_ITERATIONS ?? 4)));
const hostTools = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "ciab", "tools");
const agentPackage = "@anthropic-ai/claude-code";

/** A tools dir holding one agent CLI and its dependency closure, hard-linked from the host's. */
async function oneAgentToolsDirectory(target: string): Promise<number> {
  mkdirSync(target, { recursive: true });
  for (const file of ["package.json", "package-lock.json"]) cpSync(path.join(hostTools, file), path.join(target, file));
  for (const entry of await packageClosure(hostTools, agentPackage)) {
    mkdirSync(path.dirname(path.join(target, entry)), { recursive: true });
    await execFileAsync("cp", ["-al", path.join(hostTools, entry), path.join(target, entry)]);
  }
  const { stdout } = await execFileAsync("du", ["-sm", target]);
  return Number(stdout.split("\t")[0]);
}

const temp = makeTempDirectory("ciab-bench-ami-");
await ensureAgentAMIImage({ agentdBundlePath, nodeBinaryPath: process.execPath });
const moto = await startMoto();
const player = await startInstancePlayer({ endpoint: moto.endpoint, pollIntervalMs: 200 });
const aws = harnessEC2Client(moto.endpoint);
const toolsMB = await oneAgentToolsDirectory(path.join(temp.path, "tools"));
const bastionKey = path.join(temp.path, "bastion.key");
writeFileSync(bastionKey, player.bastion.privateKey, { mode: 0o600 });
const port = await freePort();
const bench = await startBenchServer({
  port,
  env: {
    CIAB_RUNTIME: "ec2",
    CIAB_EC2_ENDPOINT: moto.endpoint,
    CIAB_RUNTIME_EC2_SSH_USER: "admin",
    ...bastionEnv(player.bastion),
    CIAB_SERVER_HOST: "127.0.0.1",
    CIAB_SERVER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0",
    CIAB_RUNTIME_TOOLS_DIR: path.join(temp.path, "tools"),
    CIAB_PACKER_ENDPOINT: moto.endpoint,
    CIAB_PACKER_BASTION: `${player.bastion.user}@${player.bastion.host}:${player.bastion.port}`,
    CIAB_PACKER_BASTION_PRIVATE_KEY_FILE: bastionKey,
    CIAB_PACKER_WORK_DIR: path.join(temp.path, "work"),
  },
});

/** Create-to-ready of one sandbox (the API answers when agentd is healthy), then its end, unmeasured. */
async function createToReady(request: Record<string, unknown>): Promise<number> {
  const started = performance.now();
  const { body } = await bench.call("POST", "/sandboxes", request);
  const elapsed = performance.now() - started;
  const found = await aws.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:ciab-sandbox-id", Values: [body.id as string] }] }));
  const instanceID = found.Reservations![0]!.Instances![0]!.InstanceId!;
  await bench.call("DELETE", `/sandboxes/${body.id}`);
  await player.waitFor(instanceID, (instance) => instance.container === undefined, 30_000);
  return elapsed;
}

try {
  // The image, as `ciab image build --wait` makes it; the toolchain installs need the internet and are skipped.
  const key = generateSSHKeyPair();
  const buildKey = path.join(temp.path, "build.key");
  writeFileSync(buildKey, key.privateKey, { mode: 0o600 });
  const userData = ["#cloud-config", "users:", "  - name: builder", "    sudo: ALL=(ALL) NOPASSWD:ALL", "    shell: /bin/bash", `    ssh_authorized_keys: ["${key.publicKey}"]`].join("\n");
  const buildStarted = performance.now();
  const { body: build } = await bench.call("POST", "/images/build", {
    template: "builtin://default-ec2",
    provider: "claude-code",
    vars: { ssh_username: "builder", ssh_private_key_file: buildKey, user_data: userData, install_toolchains: "false" },
    wait: true,
  });
  if (build.state !== "succeeded") throw new Error(`the image build failed: ${build.error}`);
  const buildSeconds = Math.round((performance.now() - buildStarted) / 1000);
  const prebuilt = { runtime: "ec2", image: build.image_id };
  const onBoot = { runtime: "ec2" };
  // One unmeasured create each: the SDK clients, the bastion and the tools tarball (built once) warm up.
  await createToReady(prebuilt);
  await createToReady(onBoot);
  const ours: number[] = [];
  const baseline: number[] = [];
  // Interleaved, so that the load of the other work on this host falls on both sides alike.
  for (let index = 0; index < samples; index += 1) {
    ours.push(await createToReady(prebuilt));
    baseline.push(await createToReady(onBoot));
  }
  report("create-ready-prebuilt-ami", ours, baseline, { samples, image_build_seconds: buildSeconds, tools_mb: toolsMB });
  await bench.call("DELETE", `/images/${build.image_id}`);
} finally {
  await bench.close();
  aws.destroy();
  await player.close();
  await moto.stop();
  temp.remove();
}
