// Time from creating a headless pi session to its first agent event, on fargate (moto's ECS, each task played
// by a container of the agent image that dials back over the reverse channel) next to the same prompt on the
// docker runtime. Also prints the agent image's size. Issue 14 asks for both figures; there is no target.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { Ciab } from "../packages/sdk/src/index.js";
import { startServer } from "../packages/server/src/index.js";
import { createSilentLogger } from "../packages/server/src/logger.js";
import { buildAgentImage } from "../test/harness/agent-image.js";
import { harnessEC2Client, prepareECS, startMoto, startTaskPlayer } from "../test/harness/aws/index.js";
import { startModelServer } from "../test/harness/model-server/model-server.js";
import { makeTempDirectory } from "../test/harness/temp-directory.js";
import { freePort } from "../test/runtimes/ec2-test-env.js";
import { report } from "./measure.js";

Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });
const iterations = 4;
const cluster = "ciab-bench";

const image = await buildAgentImage();
const imageBytes = Number(execFileSync("docker", ["image", "inspect", "--format", "{{.Size}}", image], { encoding: "utf8" }).trim());
const moto = await startMoto();
await prepareECS(moto.endpoint, { cluster, family: "ciab-agent", image });
const ec2 = harnessEC2Client(moto.endpoint);
const subnet = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets![0]!.SubnetId!;
const group = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups![0]!.GroupId!;
ec2.destroy();
const player = await startTaskPlayer({ endpoint: moto.endpoint, cluster });
const model = await startModelServer();
const data = makeTempDirectory("ciab-bench-fargate-");
const port = await freePort();
const server = await startServer({
  port,
  host: "127.0.0.1",
  dataDirectory: data.path,
  logger: createSilentLogger(),
  env: {
    CIAB_RUNTIME: "fargate",
    CIAB_RUNTIME_FARGATE_ENDPOINT: moto.endpoint,
    CIAB_RUNTIME_FARGATE_CLUSTER: cluster,
    CIAB_RUNTIME_FARGATE_TASK_DEFINITION: "ciab-agent",
    CIAB_RUNTIME_FARGATE_SUBNETS: subnet,
    CIAB_RUNTIME_FARGATE_SECURITY_GROUPS: group,
    CIAB_SERVER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    CIAB_GATEWAY_ANTHROPIC_BASE_URL: model.url,
    CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0",
  },
});
const ciab = new Ciab({ url: server.url, token: readFileSync(path.join(data.path, "admin-token"), "utf8").trim() });
await ciab.secrets.set("ANTHROPIC_API_KEY", "bench-key");

/** Milliseconds from the create call to the session's first event from the agent itself. */
async function firstAgentEvent(runtime: "fargate" | "docker"): Promise<number> {
  const started = performance.now();
  const session = await ciab.sessions.create({ provider: "pi", prompt: "Create hello.txt in the repository.", runtime });
  let first: number | undefined;
  for await (const event of ciab.sessions.follow(session.id)) {
    if (first === undefined && /^(agent|tool)\./.test(event.type)) first = performance.now() - started;
  }
  if (first === undefined) throw new Error(`session ${session.id} on ${runtime} produced no agent event`);
  return first;
}

try {
  const fargate: number[] = [];
  const docker: number[] = [];
  await firstAgentEvent("fargate");
  await firstAgentEvent("docker");
  for (let index = 0; index < iterations; index += 1) {
    fargate.push(await firstAgentEvent("fargate"));
    docker.push(await firstAgentEvent("docker"));
  }
  console.log(`agent image ${image}: ${(imageBytes / 1e6).toFixed(0)} MB`);
  report("session-first-event-fargate", fargate, docker, { agent_image_mb: Math.round(imageBytes / 1e6), baseline: "the same pi session on docker" });
} finally {
  await server.close();
  await model.close();
  await player.close();
  await moto.stop();
  data.remove();
}
