import { DescribeTasksCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createAgentClient } from "../../packages/server/src/agent-channel/agent-client.js";
import { fargateRuntimeSchema } from "../../packages/server/src/runtimes/fargate/fargate-runtime-config.js";
import { createFargateRuntime } from "../../packages/server/src/runtimes/fargate/index.js";
import { buildAgentImage } from "../harness/agent-image.js";
import { harnessECSClient, startEmulatedFargate, type EmulatedFargate } from "../harness/aws/index.js";
import { startReverseControlPlane, type ReverseControlPlane } from "../harness/reverse-control-plane.js";
import { newSpec } from "../runtimes/runtime-conformance.js";
import { testDependencies } from "../runtimes/test-dependencies.js";

/**
 * A sandbox env is a tenant's secrets (ciab keeps it sealed and shows only its names). On fargate it must not
 * ride in RunTask's overrides: ECS keeps them in the task's description for anyone with DescribeTasks in the
 * account, and CloudTrail logs them with the call. The task gets it once through a single-use URL instead.
 */
Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

const cluster = "ciab-attack-env";
const secret = "ghp_attack2SecretValue0123456789";
let fargate: EmulatedFargate;
let controlPlane: ReverseControlPlane;
const dependencies = testDependencies("fargate");

beforeAll(async () => {
  const image = await buildAgentImage();
  fargate = await startEmulatedFargate({ cluster, taskDefinitions: [{ family: "ciab-agent", image }] });
  controlPlane = await startReverseControlPlane(dependencies);
}, 600_000);

afterAll(async () => {
  await controlPlane?.close();
  await fargate?.close();
  dependencies.removeDataDirectory();
});

describe("a fargate sandbox's env", () => {
  test("is in neither the task's overrides nor its description, reaches the task's processes, and its URL serves once", async () => {
    const config = fargateRuntimeSchema.parse({ endpoint: fargate.moto.endpoint, cluster, task_definition: "ciab-agent", task_ready_timeout_secs: 60, ...fargate.network });
    const runtime = createFargateRuntime(config, { ...dependencies, ...controlPlane.runtimeDependencies() });
    // The env also tries to replace what ciab sets for the task: those stay ciab's.
    const spec = newSpec({ env: { DEPLOY_TOKEN: secret, CIAB_SANDBOX_ID: "sbx_forged", JOB_PROMPT: "never a job" } });
    const machine = await runtime.provision(spec, { signal: AbortSignal.timeout(120_000) });
    const ecs = harnessECSClient(fargate.moto.endpoint);
    const agent = createAgentClient({ connect: () => runtime.connectAgent(machine), expectedSandboxID: machine.sandboxID });
    try {
      const [task] = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [machine.machineID], include: ["TAGS"] }))).tasks!;
      const description = JSON.stringify(task);
      expect(description).not.toContain(secret);
      expect(description).not.toContain("DEPLOY_TOKEN");
      const overrides = Object.fromEntries(task!.overrides!.containerOverrides![0]!.environment!.map((variable) => [variable.name!, variable.value!]));
      expect(overrides.CIAB_SANDBOX_ID).toBe(machine.sandboxID);
      expect(overrides).not.toHaveProperty("JOB_PROMPT");

      const seen = await agent.exec({ command: ["sh", "-c", 'printf "%s|%s|%s" "$DEPLOY_TOKEN" "$CIAB_SANDBOX_ID" "${CIAB_CONFIG_URL:-none}"'], cwd: "/workspace" });
      expect(seen.stdout).toBe(`${secret}|${machine.sandboxID}|none`);

      // Whoever reads the task's description later finds a spent URL.
      const replayed = await fetch(overrides.CIAB_CONFIG_URL!);
      expect(replayed.status).toBe(401);
      expect(await replayed.text()).not.toContain(secret);
    } finally {
      agent.close();
      ecs.destroy();
      await runtime.destroy(machine, AbortSignal.timeout(60_000));
      await runtime.close();
    }
  });
});
