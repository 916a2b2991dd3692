import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import type { Duplex } from "node:stream";
import { DescribeInstanceAttributeCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDataKey } from "../../packages/server/src/data-key.js";
import { ec2RuntimeSchema } from "../../packages/server/src/runtimes/ec2/ec2-runtime-config.js";
import { createEC2Runtime } from "../../packages/server/src/runtimes/ec2/index.js";
import type { Runtime } from "../../packages/server/src/runtimes/runtime.js";
import { startEmulatedEC2, type EmulatedEC2 } from "../harness/aws/index.js";
import { dialChannel } from "../harness/reverse-channel-dial.js";
import { startReverseControlPlane, type ReverseControlPlane } from "../harness/reverse-control-plane.js";
import { waitForHealth } from "./agent-health.js";
import { newSpec, runtimeConformance } from "./runtime-conformance.js";
import { testDependencies } from "./test-dependencies.js";

// ec2 with `channel = "reverse"`: no SSH and no bastion. Instances boot the plain AMI and download agentd from
// the test's control plane, so that they run this checkout's agentd. agentd in each played instance dials the control
// plane's agent channel on loopback (the containers share the host's network) with the one-time token of its
// user-data. Each created runtime plays a restarted control plane: a fresh hub on the same address, the
// previous one's sockets cut, so agentd must come back with its channel secret.
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

let ec2: EmulatedEC2;
let controlPlane: ReverseControlPlane;
const dependencies = { ...testDependencies("ec2r"), dataKey: createDataKey(randomBytes(32)) };
const signal = () => AbortSignal.timeout(120_000);

function createRuntime(): Runtime {
  const config = ec2RuntimeSchema.parse({
    endpoint: ec2.moto.endpoint,
    ssh_user: "admin",
    ssh_timeout_secs: 60,
    instance_ready_timeout_secs: 30,
    channel: "reverse",
  });
  return createEC2Runtime(config, { ...dependencies, ...controlPlane.restart() });
}

beforeAll(async () => {
  ec2 = await startEmulatedEC2();
  controlPlane = await startReverseControlPlane(dependencies);
}, 180_000);

afterAll(async () => {
  await controlPlane?.close();
  await ec2?.close();
  dependencies.removeDataDirectory();
});

runtimeConformance({
  name: "ec2 (reverse channel)",
  create: async () => {
    const runtime = createRuntime();
    return { runtime, cleanup: () => runtime.close() };
  },
  skip: [
    { reason: "an instance has its own network stack in its VPC; network none is not offered", tests: ["network none leaves loopback only"] },
    { reason: "boots take seconds each; measured once below", tests: ["create-to-ready time"] },
  ],
});

describe("ec2 with the reverse channel", () => {
  test("the instance's one-time token cannot be replayed, nor used for another sandbox, and no secret is kept in clear", async () => {
    const runtime = createRuntime();
    const started = performance.now();
    const machine = await runtime.provision(newSpec(), { signal: signal() });
    try {
      const health = await waitForHealth(runtime, machine);
      console.log(`ec2 reverse (emulated): create-to-ready ${(performance.now() - started).toFixed(0)} ms`);
      expect(health.body).toMatchObject({ sandboxID: machine.sandboxID });
      expect(machine.details).toMatchObject({ channel: "reverse", channelSecretHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const attribute = await ec2.aws.send(new DescribeInstanceAttributeCommand({ InstanceId: machine.machineID, Attribute: "userData" }));
      const userData = Buffer.from(attribute.UserData!.Value!, "base64").toString("utf8");
      const token = /ciabot_[A-Za-z0-9_-]+/.exec(userData)![0];
      const replayed = await dialChannel(controlPlane.hub.channelURL(machine.sandboxID, "agent"), token);
      expect(replayed).toMatchObject({ status: 401, body: { error: { context: { reason: "replayed" } } } });
      const other = await dialChannel(controlPlane.hub.channelURL("sbx_someoneelse", "agent"), token);
      expect(other).toMatchObject({ status: 401, body: { error: { context: { reason: "other_sandbox" } } } });
      expect(JSON.stringify(machine.details)).not.toContain("ciabcs_");
      console.log(`ec2 reverse (emulated): health round trip ${(await healthRoundTripMs(await runtime.connectAgent(machine), 100)).toFixed(2)} ms (mean of 100 on one HTTP/2 session)`);
    } finally {
      await runtime.destroy(machine, signal());
      await runtime.close();
    }
  });
});

/** Mean time of `count` sequential GET /v1/health on one HTTP/2 session over `duplex`. */
async function healthRoundTripMs(duplex: Duplex, count: number): Promise<number> {
  const session = http2.connect("http://agentd", { createConnection: () => duplex });
  try {
    const get = () =>
      new Promise<void>((resolve, reject) => {
        const request = session.request({ ":path": "/v1/health", ":method": "GET" });
        request.on("error", reject);
        request.resume();
        request.on("end", resolve);
      });
    await get();
    const started = performance.now();
    for (let round = 0; round < count; round++) await get();
    return (performance.now() - started) / count;
  } finally {
    session.destroy();
  }
}
