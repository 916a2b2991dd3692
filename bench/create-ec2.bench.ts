// Create-to-ready of an ec2 sandbox through the API on the emulation (moto + the instance player), next to
// the instance's own boot (container start to cloud-init done, as the player timed it). The difference is
// what ciab adds: RunInstances, the player's poll, waiting for `running`, SSH through the bastion, agentd's
// health. Target: overhead p50 ≤ 3000 ms.
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { agentAMIID, ensureAgentAMIImage, harnessEC2Client, startInstancePlayer, startMoto } from "../test/harness/aws/index.js";
import { agentdBundlePath } from "../test/runtimes/test-dependencies.js";
import { startBenchServer } from "./bench-server.js";
import { percentile, report } from "./measure.js";

Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });
const iterations = 8;

await ensureAgentAMIImage({ agentdBundlePath, nodeBinaryPath: process.execPath });
const moto = await startMoto();
const player = await startInstancePlayer({ endpoint: moto.endpoint, pollIntervalMs: 200 });
const aws = harnessEC2Client(moto.endpoint);
const bench = await startBenchServer({
  env: {
    CIAB_RUNTIME: "ec2",
    CIAB_EC2_ENDPOINT: moto.endpoint,
    CIAB_EC2_AMI_ID: agentAMIID,
    CIAB_RUNTIME_EC2_SSH_USER: "admin",
    CIAB_RUNTIME_EC2_BASTION_HOST: player.bastion.host,
    CIAB_RUNTIME_EC2_BASTION_PORT: String(player.bastion.port),
    CIAB_RUNTIME_EC2_BASTION_USER: player.bastion.user,
    CIAB_RUNTIME_EC2_BASTION_PRIVATE_KEY: player.bastion.privateKey,
    CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0",
  },
});

async function instanceOf(sandboxID: string): Promise<string> {
  const output = await aws.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:ciab-sandbox-id", Values: [sandboxID] }] }));
  return output.Reservations![0]!.Instances![0]!.InstanceId!;
}

try {
  const createToReady: number[] = [];
  const boots: number[] = [];
  const overheads: number[] = [];
  // One unmeasured create first: the SDK's clients, the bastion and the image cache warm up.
  for (let index = -1; index < iterations; index += 1) {
    const started = performance.now();
    const { body } = await bench.call("POST", "/sandboxes", {});
    const elapsed = performance.now() - started;
    const sandboxID = body.id as string;
    const instanceID = await instanceOf(sandboxID);
    const boot = await player.waitForBoot(instanceID, { timeoutMs: 60_000 });
    await bench.call("DELETE", `/sandboxes/${sandboxID}`);
    await player.waitFor(instanceID, (instance) => instance.container === undefined, 30_000);
    if (index < 0) continue;
    createToReady.push(elapsed);
    boots.push(boot.milliseconds);
    overheads.push(elapsed - boot.milliseconds);
  }
  const overheadP50 = Math.round(percentile(overheads, 0.5));
  console.log(`create-ec2 overhead (create-to-ready minus boot): p50 ${overheadP50} ms, p90 ${Math.round(percentile(overheads, 0.9))} ms`);
  report("create-ec2", createToReady, boots, { overhead_p50_ms: overheadP50, overhead_target_ms: 3000 });
} finally {
  await bench.close();
  aws.destroy();
  await player.close();
  await moto.stop();
}
