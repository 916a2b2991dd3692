import path from "node:path";
import { DescribeTasksCommand, type ECSClient, type Task } from "@aws-sdk/client-ecs";
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import Database from "better-sqlite3";
import { Ciab } from "../../../packages/sdk/src/index.js";
import { buildAgentImage } from "../agent-image.js";
import { startModelServer } from "../model-server/model-server.js";
import type { ModelScript } from "../model-server/scripts.js";
import { freePort } from "../free-port.js";
import { makeTempDirectory } from "../temp-directory.js";
import { startTestServer, type TestServer } from "../test-server.js";
import { harnessEC2Client } from "./ec2-client.js";
import { startMoto, type Moto } from "./moto.js";
import { harnessECSClient, prepareECS, startTaskPlayer, type TaskPlayer } from "./task-player.js";

Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });

/** A ciab server on the fargate runtime over moto's ECS, its tasks played as agent-image containers. */
export interface FargateSessions {
  moto: Moto;
  player: TaskPlayer;
  ecs: ECSClient;
  model: Awaited<ReturnType<typeof startModelServer>>;
  network: { CIAB_RUNTIME_FARGATE_SUBNETS: string; CIAB_RUNTIME_FARGATE_SECURITY_GROUPS: string };
  dataDirectory: string;
  server: TestServer;
  ciab: Ciab;
  /**
   * Starts the server (again) on the same data dir and port, so agentd in a running task, which dials the
   * public URL it was started with, finds it after a restart; `server` and `ciab` then name the new one.
   */
  restart(extraEnv?: Record<string, string>): Promise<void>;
  /** The ECS task of a sandbox, from the machine the server recorded. */
  taskOf(sandboxID: string): Promise<Task>;
  close(): Promise<void>;
}

export async function startFargateSessions(options: {
  cluster: string;
  prefix: string;
  script?: ModelScript;
  /** Server settings of every start, restarts included. */
  env?: Record<string, string>;
}): Promise<FargateSessions> {
  const { cluster } = options;
  const image = await buildAgentImage();
  const moto = await startMoto();
  await prepareECS(moto.endpoint, { cluster, family: "ciab-agent", image });
  const ec2 = harnessEC2Client(moto.endpoint);
  const network = {
    CIAB_RUNTIME_FARGATE_SUBNETS: (await ec2.send(new DescribeSubnetsCommand({}))).Subnets![0]!.SubnetId!,
    CIAB_RUNTIME_FARGATE_SECURITY_GROUPS: (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups![0]!.GroupId!,
  };
  ec2.destroy();
  const ecs = harnessECSClient(moto.endpoint);
  const player = await startTaskPlayer({ endpoint: moto.endpoint, cluster });
  const model = await startModelServer(options.script ? { script: options.script } : {});
  const data = makeTempDirectory(options.prefix);
  const port = await freePort();

  const start = (extraEnv: Record<string, string> = {}) =>
    startTestServer({
      port,
      dataDirectory: data.path,
      env: {
        CIAB_RUNTIME: "fargate",
        CIAB_RUNTIME_FARGATE_ENDPOINT: moto.endpoint,
        CIAB_RUNTIME_FARGATE_CLUSTER: cluster,
        CIAB_RUNTIME_FARGATE_TASK_DEFINITION: "ciab-agent",
        ...network,
        CIAB_SERVER_HOST: "127.0.0.1",
        CIAB_SERVER_PUBLIC_URL: `http://127.0.0.1:${port}`,
        CIAB_SERVER_AGENT_READY_TIMEOUT_SECONDS: "60",
        CIAB_GATEWAY_ANTHROPIC_BASE_URL: model.url,
        ...options.env,
        ...extraEnv,
      },
    });

  const server = await start();
  const sessions: FargateSessions = {
    moto,
    player,
    ecs,
    model,
    network,
    dataDirectory: data.path,
    server,
    ciab: new Ciab({ url: server.url, token: server.token }),
    async restart(extraEnv) {
      sessions.server = await start(extraEnv);
      sessions.ciab = new Ciab({ url: sessions.server.url, token: sessions.server.token });
    },
    async taskOf(sandboxID) {
      const database = new Database(path.join(data.path, "ciab.db"), { readonly: true });
      try {
        const row = database.prepare("select machine from sandboxes where id = ?").get(sandboxID) as { machine: string };
        const taskArn = (JSON.parse(row.machine) as { machineID: string }).machineID;
        return (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks![0]!;
      } finally {
        database.close();
      }
    },
    async close() {
      await sessions.server.close();
      await model.close();
      ecs.destroy();
      await player.close();
      await moto.stop();
      data.remove();
    },
  };
  await sessions.ciab.secrets.set("ANTHROPIC_API_KEY", "real-key-anthropic");
  return sessions;
}
