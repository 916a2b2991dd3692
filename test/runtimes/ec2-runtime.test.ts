import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDataKey } from "../../packages/server/src/data-key.js";
import { ec2RuntimeSchema, type EC2RuntimeConfig } from "../../packages/server/src/runtimes/ec2/ec2-runtime-config.js";
import { createEC2Runtime } from "../../packages/server/src/runtimes/ec2/index.js";
import { agentAMIID, ensureAgentAMIImage, startInstancePlayer, startMoto, type InstancePlayer, type Moto } from "../harness/aws/index.js";
import { waitForHealth } from "./agent-health.js";
import { newSpec, runtimeConformance } from "./runtime-conformance.js";
import { agentdBundlePath, testDependencies } from "./test-dependencies.js";

// ec2 against moto_server and the harness's instance player: each instance is a container booting the
// instance's real user-data with cloud-init, reached over SSH through the harness's bastion on loopback.
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let moto: Moto;
let player: InstancePlayer;
const dependencies = { ...testDependencies("ec2"), dataKey: createDataKey(randomBytes(32)) };
const signal = () => AbortSignal.timeout(120_000);

function config(overrides: Partial<EC2RuntimeConfig> = {}): EC2RuntimeConfig {
  return ec2RuntimeSchema.parse({
    endpoint: moto.endpoint,
    default_ami: agentAMIID,
    ssh_user: "admin",
    ssh_timeout_secs: 90,
    instance_ready_timeout_secs: 30,
    bastion: {
      host: player.bastion.host,
      port: player.bastion.port,
      user: player.bastion.user,
      private_key: player.bastion.privateKey,
    },
    ...overrides,
  });
}

beforeAll(async () => {
  await ensureAgentAMIImage({ agentdBundlePath, nodeBinaryPath: process.execPath });
  moto = await startMoto();
  player = await startInstancePlayer({ endpoint: moto.endpoint, pollIntervalMs: 200 });
}, 180_000);

afterAll(async () => {
  await player?.close();
  await moto?.stop();
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
      expect(player.containerOf(machine.machineID)).toBeDefined();
      expect(machine.details).toMatchObject({ instanceType: "t3.medium", sshUser: "admin" });
      expect(JSON.stringify(machine.details)).not.toContain("PRIVATE KEY");
    } finally {
      await runtime.destroy(machine, signal());
      await runtime.close();
    }
    await player.waitFor(machine.machineID, (instance) => instance.container === undefined, 30_000);
  });
});
