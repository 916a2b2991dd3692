import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { CiabError } from "@ciab/protocol";

export type TaskStatus = "PROVISIONING" | "PENDING" | "ACTIVATING" | "RUNNING" | "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" | "STOPPED" | "DELETED";

export interface TaskSummary {
  taskArn: string;
  lastStatus: TaskStatus | string;
  desiredStatus: string;
  /** Task-level size: vCPU units (1024 = 1 vCPU) and MiB, from the task or its definition. */
  cpu: number | undefined;
  memoryMiB: number | undefined;
  stopCode: string | undefined;
  stoppedReason: string | undefined;
  /** The agent container's exit code once it stopped. */
  exitCode: number | undefined;
  tags: Record<string, string>;
}

export interface TaskLaunch {
  cluster: string;
  taskDefinition: string;
  containerName: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  /** Environment overrides of the agent container. */
  env: Record<string, string>;
  tags: Record<string, string>;
}

/** The few ECS calls the runtime makes. */
export interface ECSAPI {
  runTask(launch: TaskLaunch, signal: AbortSignal): Promise<TaskSummary>;
  describeTask(cluster: string, taskArn: string, signal: AbortSignal): Promise<TaskSummary | undefined>;
  /** Tasks of the cluster not yet stopped, with their tags. */
  listTasks(cluster: string, signal: AbortSignal): Promise<TaskSummary[]>;
  stopTask(cluster: string, taskArn: string, reason: string, signal: AbortSignal): Promise<void>;
  /** The task definition's cpu and memory, for tasks that report none. */
  taskDefinitionSize(taskDefinition: string, signal: AbortSignal): Promise<{ cpu: number | undefined; memoryMiB: number | undefined }>;
  close(): void;
}

/** DescribeTasks takes at most 100 tasks per call. */
const describeBatch = 100;

export function createECSAPI(options: { region: string; endpoint: string | undefined }): ECSAPI {
  const client = new ECSClient({ region: options.region, ...(options.endpoint !== undefined && { endpoint: options.endpoint }), maxAttempts: 3 });
  const describe = async (cluster: string, taskArns: string[], signal: AbortSignal): Promise<Task[]> => {
    const tasks: Task[] = [];
    for (let start = 0; start < taskArns.length; start += describeBatch) {
      const answer = await client.send(
        new DescribeTasksCommand({ cluster, tasks: taskArns.slice(start, start + describeBatch), include: ["TAGS"] }),
        { abortSignal: signal },
      );
      tasks.push(...(answer.tasks ?? []));
    }
    return tasks;
  };
  return {
    async runTask(launch, signal) {
      const answer = await client.send(
        new RunTaskCommand({
          cluster: launch.cluster,
          taskDefinition: launch.taskDefinition,
          launchType: "FARGATE",
          count: 1,
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: launch.subnets,
              securityGroups: launch.securityGroups,
              assignPublicIp: launch.assignPublicIp ? "ENABLED" : "DISABLED",
            },
          },
          overrides: {
            containerOverrides: [{ name: launch.containerName, environment: Object.entries(launch.env).map(([name, value]) => ({ name, value })) }],
          },
          tags: Object.entries(launch.tags).map(([key, value]) => ({ key, value })),
          propagateTags: "TASK_DEFINITION",
          enableExecuteCommand: true,
          startedBy: "ciab",
        }),
        { abortSignal: signal },
      );
      const task = answer.tasks?.[0];
      if (task === undefined) {
        const failure = answer.failures?.[0];
        throw new CiabError("runtime_error", `ecs: RunTask started no task: ${failure?.reason ?? "no reason given"}${failure?.detail ? ` (${failure.detail})` : ""}`, {
          context: { awsCode: failure?.reason ?? "RunTaskFailure" },
          retryable: /capacity|RESOURCE/i.test(failure?.reason ?? ""),
        });
      }
      return summarize(task, launch.containerName);
    },
    async describeTask(cluster, taskArn, signal) {
      const [task] = await describe(cluster, [taskArn], signal);
      return task === undefined ? undefined : summarize(task);
    },
    async listTasks(cluster, signal) {
      const taskArns: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(new ListTasksCommand({ cluster, nextToken, maxResults: 100 }), { abortSignal: signal });
        taskArns.push(...(page.taskArns ?? []));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      return (await describe(cluster, taskArns, signal)).map((task) => summarize(task));
    },
    async stopTask(cluster, taskArn, reason, signal) {
      await client.send(new StopTaskCommand({ cluster, task: taskArn, reason }), { abortSignal: signal });
    },
    async taskDefinitionSize(taskDefinition, signal) {
      const answer = await client.send(new DescribeTaskDefinitionCommand({ taskDefinition }), { abortSignal: signal });
      return { cpu: toNumber(answer.taskDefinition?.cpu), memoryMiB: toNumber(answer.taskDefinition?.memory) };
    },
    close: () => client.destroy(),
  };
}

function summarize(task: Task, containerName?: string): TaskSummary {
  const container = task.containers?.find((candidate) => containerName === undefined || candidate.name === containerName) ?? task.containers?.[0];
  return {
    taskArn: task.taskArn ?? "",
    lastStatus: task.lastStatus ?? "PROVISIONING",
    desiredStatus: task.desiredStatus ?? "RUNNING",
    cpu: toNumber(task.cpu),
    memoryMiB: toNumber(task.memory),
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason || undefined,
    exitCode: task.lastStatus === "STOPPED" ? container?.exitCode : undefined,
    tags: Object.fromEntries((task.tags ?? []).flatMap((tag) => (tag.key === undefined ? [] : [[tag.key, tag.value ?? ""]]))),
  };
}

function toNumber(value: string | undefined): number | undefined {
  const number = value === undefined ? NaN : Number(value);
  return Number.isFinite(number) && number > 0 ? number : undefined;
}
