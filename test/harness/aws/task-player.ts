import { randomBytes } from "node:crypto";
import {
  CreateClusterCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { docker } from "./docker-cli.js";
import { removeOrphanedContainers } from "./orphaned-containers.js";

/** The harness's own ECS client for moto: fixed test credentials, one attempt, so a stopped moto fails fast. */
export function harnessECSClient(endpoint: string, region = "us-east-1"): ECSClient {
  return new ECSClient({ endpoint, region, credentials: { accessKeyId: "testing", secretAccessKey: "testing" }, maxAttempts: 1 });
}

/**
 * What the CDK app's Agent stack makes, in moto: a cluster and a Fargate task definition of `image`. moto's
 * tasks would run → stop on their own as they are described; here they stay RUNNING until stopped, as on AWS.
 */
export async function prepareECS(endpoint: string, options: { cluster: string; family: string; image: string; containerName?: string }): Promise<string> {
  const transition = { model_name: "ecs::task", transition: { progression: "manual", times: 1_000_000_000 } };
  const answer = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, { method: "POST", body: JSON.stringify(transition) });
  if (!answer.ok) throw new Error(`moto refused the ecs::task transition: ${answer.status}`);
  const ecs = harnessECSClient(endpoint);
  try {
    await ecs.send(new CreateClusterCommand({ clusterName: options.cluster }));
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: options.family,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: "16384",
        memory: "122880",
        // moto sums container sizes and fails without them.
        containerDefinitions: [{ name: options.containerName ?? "agent", image: options.image, essential: true, cpu: 16384, memory: 122880, environment: [{ name: "JOB_STOP_GRACE_SECONDS", value: "30" }] }],
      }),
    );
    return registered.taskDefinition!.taskDefinitionArn!;
  } finally {
    ecs.destroy();
  }
}

export interface PlayedTask {
  taskArn: string;
  container: string;
  /** The container's exit code once it ended, on its own or stopped. */
  exitCode?: number;
  /** What the container printed (the task's log: CloudWatch in AWS), kept once it ended. */
  logs?: { stdout: string; stderr: string };
}

export interface TaskPlayer {
  /** The container playing a task, while one exists. */
  containerOf(taskArn: string): string | undefined;
  /** Resolves once the container that played a task is removed. */
  waitForGone(taskArn: string, timeoutMs?: number): Promise<void>;
  /** The task's log so far: its container's stdout and stderr, kept after the container is removed. */
  logsOf(taskArn: string): Promise<{ stdout: string; stderr: string }>;
  /** Resolves once a task is played by a running container. */
  waitForTask(taskArn: string, timeoutMs?: number): Promise<PlayedTask>;
  close(): Promise<void>;
}

/**
 * Plays what moto only records: every running task of `cluster` becomes a container of its task definition's
 * image with the definition's and the overrides' environment, on the host's network (loopback only, as
 * dockerd has no bridge). A stopped task's container is removed; a container that ends on its own stops its
 * task, as Fargate does when the essential container exits.
 */
export async function startTaskPlayer(options: { endpoint: string; cluster: string; pollIntervalMs?: number }): Promise<TaskPlayer> {
  await removeOrphanedContainers();
  const ecs = harnessECSClient(options.endpoint);
  const playerID = randomBytes(4).toString("hex");
  const played = new Map<string, PlayedTask>();
  const ended = new Set<string>();
  let closed = false;
  let polling = Promise.resolve();

  const play = async (task: Task): Promise<void> => {
    const taskArn = task.taskArn!;
    const definition = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: task.taskDefinitionArn! }))).taskDefinition!;
    const containerDefinition = definition.containerDefinitions![0]!;
    const override = task.overrides?.containerOverrides?.find((candidate) => candidate.name === containerDefinition.name);
    const env = [...(containerDefinition.environment ?? []), ...(override?.environment ?? [])];
    const container = `ciab-task-${playerID}-${taskArn.slice(taskArn.lastIndexOf("/") + 1)}`;
    const argv = ["run", "--detach", "--name", container, "--network", "host", "--label", "ciab.harness=instance-player", "--label", `ciab.player-pid=${process.pid}`];
    for (const variable of env) argv.push("--env", `${variable.name}=${variable.value ?? ""}`);
    argv.push(containerDefinition.image!);
    played.set(taskArn, { taskArn, container });
    await docker(argv, { timeoutMs: 60_000 });
  };

  const poll = async (): Promise<void> => {
    const running = (await ecs.send(new ListTasksCommand({ cluster: options.cluster }))).taskArns ?? [];
    const stopped = (await ecs.send(new ListTasksCommand({ cluster: options.cluster, desiredStatus: "STOPPED" }))).taskArns ?? [];
    for (const taskArn of stopped) {
      const task = played.get(taskArn);
      if (task === undefined || ended.has(taskArn)) continue;
      ended.add(taskArn);
      // SIGTERM, then SIGKILL after the grace, as ECS does on StopTask; other tasks are played meanwhile.
      void docker(["stop", "--time", "30", task.container], { timeoutMs: 45_000 })
        .catch(() => undefined)
        .then(() => keepEnd(task))
        .then(() => docker(["rm", "--force", task.container]))
        .catch(() => undefined);
    }
    const fresh = running.filter((taskArn) => !played.has(taskArn) && !stopped.includes(taskArn));
    if (fresh.length > 0) {
      const tasks = (await ecs.send(new DescribeTasksCommand({ cluster: options.cluster, tasks: fresh }))).tasks ?? [];
      for (const task of tasks) if (task.lastStatus === "RUNNING") await play(task);
    }
    for (const task of played.values()) {
      if (ended.has(task.taskArn)) continue;
      const { stdout } = await docker(["inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", task.container]).catch(() => ({ stdout: "false -1" }));
      const [isRunning, exitCode] = stdout.trim().split(" ");
      if (isRunning === "true") continue;
      task.exitCode = Number(exitCode);
      ended.add(task.taskArn);
      await keepEnd(task);
      await ecs.send(new StopTaskCommand({ cluster: options.cluster, task: task.taskArn, reason: `Essential container in task exited (${exitCode})` })).catch(() => undefined);
    }
  };

  // moto keeps no container exit code (it answers 0 for every container), so the player keeps it.
  const keepEnd = async (task: PlayedTask): Promise<void> => {
    const state = await docker(["inspect", "--format", "{{.State.ExitCode}}", task.container]).catch(() => undefined);
    if (state !== undefined) task.exitCode = Number(state.stdout.trim());
    task.logs = await docker(["logs", task.container], { timeoutMs: 20_000 }).catch(() => task.logs);
  };

  const loop = async (): Promise<void> => {
    while (!closed) {
      polling = poll().catch(() => undefined);
      await polling;
      await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 250));
    }
  };
  void loop();

  return {
    containerOf: (taskArn) => (ended.has(taskArn) ? undefined : played.get(taskArn)?.container),
    async logsOf(taskArn) {
      const task = played.get(taskArn);
      if (task === undefined) throw new Error(`task ${taskArn} was never played`);
      if (task.logs !== undefined) return task.logs;
      return docker(["logs", task.container], { timeoutMs: 20_000 });
    },
    async waitForGone(taskArn, timeoutMs = 60_000) {
      const container = played.get(taskArn)?.container;
      const deadline = Date.now() + timeoutMs;
      while (container !== undefined && Date.now() < deadline) {
        const exists = await docker(["container", "inspect", container], { timeoutMs: 10_000 }).then(() => true, () => false);
        if (!exists) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (container !== undefined) throw new Error(`the container of task ${taskArn} was still there after ${timeoutMs} ms`);
    },
    async waitForTask(taskArn, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const task = played.get(taskArn);
        if (task !== undefined) return task;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`task ${taskArn} was not played within ${timeoutMs} ms`);
    },
    async close() {
      closed = true;
      await polling;
      const containers = [...played.values()].map((task) => task.container);
      if (containers.length > 0) await docker(["rm", "--force", ...containers]).catch(() => undefined);
      ecs.destroy();
    },
  };
}
