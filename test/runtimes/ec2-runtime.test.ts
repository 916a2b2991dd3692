import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { machineDownloadRoutes } from "../../packages/server/src/api/machine-downloads.js";
import { createDataKey } from "../../packages/server/src/data-key.js";
import { createMachineDownloadSigner } from "../../packages/server/src/services/machine-download-signer.js";
import { ec2RuntimeSchema, type EC2RuntimeConfig } from "../../packages/server/src/runtimes/ec2/ec2-runtime-config.js";
import { createEC2Runtime } from "../../packages/server/src/runtimes/ec2/index.js";
import { agentAMIID, ensureAgentAMIImage, ubuntuJammyAMIID, startInstancePlayer, startMoto, type InstancePlayer, type Moto } from "../harness/aws/index.js";
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

  test("on a plain Ubuntu AMI, cloud-init downloads node and agentd from signed URLs of the control plane", async () => {
    const served: string[] = [];
    let routes: ReturnType<typeof machineDownloadRoutes> | undefined;
    const server = createAdaptorServer({
      fetch: (request) => {
        served.push(new URL(request.url).pathname);
        return routes!.fetch(request);
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const publicURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const signer = createMachineDownloadSigner({ publicURL, key: randomBytes(32) });
    routes = machineDownloadRoutes({ signer, files: { node: process.execPath, agentd: agentdBundlePath } });
    const runtime = createEC2Runtime(config({ default_ami: undefined }), {
      ...dependencies,
      machineDownloads: (sandboxID) => signer.urls(sandboxID),
    });
    const machine = await runtime.provision(newSpec(), { signal: signal() });
    try {
      expect((await waitForHealth(runtime, machine)).body).toMatchObject({ sandboxID: machine.sandboxID });
      expect(machine.details).toMatchObject({ imageID: ubuntuJammyAMIID });
      expect(served.sort()).toEqual(["/machine-downloads/agentd", "/machine-downloads/node"]);
    } finally {
      await runtime.destroy(machine, signal());
      await runtime.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
