import { DescribeTasksCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fargateRuntimeSchema, type FargateRuntimeConfig } from "../../packages/server/src/runtimes/fargate/fargate-runtime-config.js";
import { createFargateRuntime } from "../../packages/server/src/runtimes/fargate/index.js";
import type { Runtime } from "../../packages/server/src/runtimes/runtime.js";
import { createPricing } from "../../packages/server/src/services/pricing-service.js";
import { budgetSectionSchema } from "../../packages/server/src/config/config-schema.js";
import { buildAgentImage } from "../harness/agent-image.js";
import { harnessECSClient, startEmulatedFargate, type EmulatedFargate } from "../harness/aws/index.js";
import { dialChannel } from "../harness/reverse-channel-dial.js";
import { startReverseControlPlane, type ReverseControlPlane } from "../harness/reverse-control-plane.js";
import { waitForHealth } from "./agent-health.js";
import { newSpec, runtimeConformance } from "./runtime-conformance.js";
import { testDependencies } from "./test-dependencies.js";

// Fargate on moto's ECS: each task moto records is played by a container of the agent image (infra/agent-image)
// on the host's loopback, whose entrypoint starts agentd with the one-time token of the task's overrides; agentd
// dials the test's control plane over the reverse channel. Each created runtime plays a restarted control plane.
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

const cluster = "ciab-agents";
let fargate: EmulatedFargate;
let controlPlane: ReverseControlPlane;
const dependencies = testDependencies("fargate");
const signal = () => AbortSignal.timeout(120_000);

function createRuntime(overrides: Partial<Record<keyof FargateRuntimeConfig, unknown>> = {}): Runtime {
  const config = fargateRuntimeSchema.parse({ endpoint: fargate.moto.endpoint, cluster, task_definition: "ciab-agent", task_ready_timeout_secs: 60, ...fargate.network, ...overrides });
  return createFargateRuntime(config, { ...dependencies, ...controlPlane.restart() });
}

beforeAll(async () => {
  const image = await buildAgentImage();
  fargate = await startEmulatedFargate({
    cluster,
    taskDefinitions: [
      { family: "ciab-agent", image },
      { family: "ciab-no-agent", image: "ciab/default:bookworm" },
    ],
  });
  controlPlane = await startReverseControlPlane(dependencies);
}, 600_000);

afterAll(async () => {
  await controlPlane?.close();
  await fargate?.close();
  dependencies.removeDataDirectory();
});

runtimeConformance({
  name: "fargate",
  create: async () => {
    const runtime = createRuntime();
    return { runtime, cleanup: () => runtime.close() };
  },
  skip: [
    { reason: "Fargate cannot pause a task (capability_unsupported)", tests: ["pause freezes agentd and resume thaws it"] },
    { reason: "a task has its own network stack in its VPC (awsvpc); network none is not offered", tests: ["network none leaves loopback only"] },
    { reason: "task starts take seconds each; measured once below", tests: ["create-to-ready time"] },
  ],
});

describe("fargate on moto's ECS", () => {
  test("RunTask carries the launch settings, the tags and the channel token; the token cannot be replayed; the task is priced by its size", async () => {
    const runtime = createRuntime();
    const started = performance.now();
    const machine = await runtime.provision(newSpec({ env: { GREETING: "hello" } }), { signal: signal() });
    const ecs = harnessECSClient(fargate.moto.endpoint);
    try {
      expect((await waitForHealth(runtime, machine)).body).toMatchObject({ sandboxID: machine.sandboxID });
      console.log(`fargate (emulated): create-to-ready ${(performance.now() - started).toFixed(0)} ms`);
      const [task] = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [machine.machineID], include: ["TAGS"] }))).tasks!;
      expect(task!.launchType).toBe("FARGATE");
      expect(Object.fromEntries(task!.tags!.map((tag) => [tag.key, tag.value]))).toMatchObject({
        "ciab-managed": "true",
        "ciab-sandbox-id": machine.sandboxID,
        "ciab-installation-id": dependencies.installationID,
      });
      const env = Object.fromEntries(task!.overrides!.containerOverrides![0]!.environment!.map((variable) => [variable.name, variable.value]));
      // The sandbox env comes once through a single-use URL (test/attacks/fargate-env-overrides.test.ts), never in the overrides.
      expect(env).not.toHaveProperty("GREETING");
      expect(env).toMatchObject({ CIAB_CONFIG_URL: expect.stringContaining("/machine-downloads/config?"), CIAB_SANDBOX_ID: machine.sandboxID, CIAB_CHANNEL_URL: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/agent-channel\//) });
      const replayed = await dialChannel(controlPlane.hub.channelURL(machine.sandboxID, "agent"), env.CIAB_CHANNEL_TOKEN!);
      expect(replayed).toMatchObject({ status: 401, body: { error: { context: { reason: "replayed" } } } });
      expect(machine.details).toMatchObject({ vcpus: 16, memoryGiB: 120, channelSecretHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const pricing = createPricing(budgetSectionSchema.parse({}));
      expect(pricing.usdPerHour("fargate", machine)).toBeCloseTo(16 * 0.04048 + 120 * 0.004445, 6);
      await expect(runtime.pause(machine, signal())).rejects.toMatchObject({ code: "capability_unsupported" });
    } finally {
      ecs.destroy();
      await runtime.destroy(machine, signal());
      await runtime.close();
    }
  });

  test("a task stopped behind our back: the channel refuses it and the reconciler sees it stopped", async () => {
    const runtime = createRuntime();
    const machine = await runtime.provision(newSpec(), { signal: signal() });
    const ecs = harnessECSClient(fargate.moto.endpoint);
    try {
      await waitForHealth(runtime, machine);
      await ecs.send(new StopTaskCommand({ cluster, task: machine.machineID, reason: "stopped by an operator" }));
      await expect(runtime.connectAgent(machine)).rejects.toMatchObject({ code: "agent_unreachable", retryable: false });
      expect((await runtime.listManaged(signal())).map((each) => each.machineID)).not.toContain(machine.machineID);
    } finally {
      ecs.destroy();
      await runtime.destroy(machine, signal());
      await runtime.close();
    }
  });

  test("stopJob stops a job's task with its reason (cut to ECS's 255 characters), which destroy keeps; a task without a job is left running", async () => {
    const runtime = createRuntime();
    const [job, plain] = await Promise.all([
      runtime.provision(newSpec({ job: { prompt: "never handed over", env: {} } }), { signal: signal() }),
      runtime.provision(newSpec(), { signal: signal() }),
    ]);
    const ecs = harnessECSClient(fargate.moto.endpoint);
    const described = async (machineID: string) => (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [machineID] }))).tasks![0]!;
    try {
      const reason = `ciab: session ses_test ended: cancelled ${"x".repeat(300)}`;
      expect(await runtime.stopJob!(job, reason, signal())).toBe(true);
      expect(await described(job.machineID)).toMatchObject({ desiredStatus: "STOPPED", stoppedReason: reason.slice(0, 255) });
      expect(await runtime.stopJob!(job, "ciab: a second reason", signal())).toBe(true);
      await runtime.destroy(job, signal());
      expect((await described(job.machineID)).stoppedReason).toBe(reason.slice(0, 255));

      expect(await runtime.stopJob!(plain, "ciab: not a job", signal())).toBe(false);
      expect((await described(plain.machineID)).lastStatus).toBe("RUNNING");
      await runtime.destroy(plain, signal());
      expect((await described(plain.machineID)).stoppedReason).toBe("ciab: the sandbox was deleted");
    } finally {
      ecs.destroy();
      await runtime.destroy(job, signal());
      await runtime.destroy(plain, signal());
      await runtime.close();
    }
  });

  test("RunTask refused (bad subnet, missing task definition, missing cluster) and a task that never dials in are typed errors with nothing left running", async () => {
    const cases: Array<[Partial<Record<keyof FargateRuntimeConfig, unknown>>, RegExp, string | undefined]> = [
      [{ subnets: ["subnet-00000000000000000"] }, /RunTask.*InvalidSubnetID\.NotFound/, "InvalidSubnetID.NotFound"],
      [{ task_definition: "ciab-missing" }, /RunTask.*ClientException/, "ClientException"],
      [{ cluster: "ciab-no-such-cluster" }, /RunTask.*ClusterNotFoundException/, "ClusterNotFoundException"],
      [{ task_definition: "ciab-no-agent", task_ready_timeout_secs: 6 }, /did not answer|is stopped \(.*Essential container in task exited/, undefined],
    ];
    for (const [overrides, message, awsCode] of cases) {
      const runtime = createRuntime(overrides);
      try {
        const failure = await runtime.provision(newSpec(), { signal: signal() }).then(
          () => undefined,
          (error: { code: string; message: string; context?: { awsCode?: string } }) => error,
        );
        expect(failure?.message).toMatch(message);
        if (awsCode !== undefined) expect(failure).toMatchObject({ code: "runtime_error", context: { awsCode } });
        if (overrides.cluster === undefined) expect(await runtime.listManaged(signal())).toEqual([]);
      } finally {
        await runtime.close();
      }
    }
  });
});
