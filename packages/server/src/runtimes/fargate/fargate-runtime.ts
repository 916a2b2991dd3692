import { rm } from "node:fs/promises";
import type { Duplex } from "node:stream";
import { CiabError } from "@ciab/protocol";
import type { Logger } from "../../logger.js";
import { awsCall as anyAWSCall } from "../ec2/ec2-errors.js";
import { pollUntil, waitForAgentStream } from "../ec2/poll.js";
import type { ReverseChannelHub } from "../ec2/reverse-hub.js";
import { removeAgentSocketLink } from "../local/agent-socket.js";
import { sandboxPaths } from "../local/machine-layout.js";
import {
  machineLabels,
  type Machine,
  type MachineJobEnd,
  type MachineSpec,
  type ManagedMachine,
  type ProvisionOptions,
  type Runtime,
  type RuntimeCapabilities,
  type RuntimeDependencies,
} from "../runtime.js";
import { createECSAPI, type ECSAPI } from "./ecs-client.js";
import type { FargateRuntimeConfig } from "./fargate-runtime-config.js";
import { taskDetails, type TaskDetails } from "./task-details.js";
import { isTaskNotFound, shortTaskID, stoppedError } from "./task-status.js";

const awsCall = <T>(action: string, call: () => Promise<T>, region?: string): Promise<T> => anyAWSCall(action, call, region, "ecs");

/** connectAgent waits this long for agentd's idle socket; agentd redials within 3 s of any drop. */
const takeWaitMs = 5_000;
/** StopTask takes a reason of at most 255 characters. */
const maximumStopReasonLength = 255;
const startingStatuses = new Set(["PROVISIONING", "PENDING", "ACTIVATING"]);

/**
 * Sandboxes as ECS tasks on Fargate (docs/decisions/0033-fargate-runtime.md). The task runs the agent image
 * of the configured task definition; its entrypoint starts agentd, which dials the control plane over the
 * reverse channel with a one-time token given in the container's environment overrides. There is no
 * inbound port and nothing to pause. A headless session's sandbox carries its prompt as the task's job
 * (`JOB_PROMPT`, docs/decisions/0038).
 */
export class FargateRuntime implements Runtime {
  readonly name = "fargate" as const;
  readonly capabilities: RuntimeCapabilities = {
    pause: false,
    resourceLimits: false,
    hostNetwork: false,
    images: false,
    loaderEnvironment: true,
    headlessJobs: true,
  };
  readonly defaultImage: string;

  constructor(
    private readonly config: FargateRuntimeConfig,
    private readonly dependencies: RuntimeDependencies,
    private readonly api: ECSAPI,
    private readonly logger: Logger,
  ) {
    this.defaultImage = config.task_definition;
  }

  async provision(spec: MachineSpec, options: ProvisionOptions): Promise<Machine> {
    const { signal } = options;
    if (spec.image !== undefined && spec.image !== this.config.task_definition) {
      throw new CiabError("capability_unsupported", `a fargate sandbox runs the image of task definition ${this.config.task_definition}; it cannot boot ${spec.image}`);
    }
    const hub = this.#hub();
    const timeoutMs = this.config.task_ready_timeout_secs * 1000;
    const token = hub.issueToken(spec.sandboxID, timeoutMs);
    const channelURL = hub.channelURL(spec.sandboxID, "agent").slice(0, -"/agent".length);
    const configURL = this.#offerConfig(spec);
    options.onProgress?.(`starting a task of ${this.config.task_definition} in cluster ${this.config.cluster} (${this.config.region})`);
    const task = await awsCall(
      "RunTask",
      () =>
        this.api.runTask(
          {
            cluster: this.config.cluster,
            taskDefinition: this.config.task_definition,
            containerName: this.config.container_name,
            subnets: this.config.subnets,
            securityGroups: this.config.security_groups,
            assignPublicIp: this.config.assign_public_ip,
            env: {
              ...(configURL !== undefined && { CIAB_CONFIG_URL: configURL }),
              ...(spec.job && { ...spec.job.env, JOB_PROMPT: spec.job.prompt }),
              CIAB_CHANNEL_URL: channelURL,
              CIAB_CHANNEL_TOKEN: token,
              CIAB_SANDBOX_ID: spec.sandboxID,
            },
            tags: {
              [machineLabels.managed]: "true",
              [machineLabels.sandboxID]: spec.sandboxID,
              [machineLabels.installationID]: this.dependencies.installationID,
              Name: `ciab-${spec.name}`,
            },
          },
          signal,
        ),
      this.config.region,
    ).catch((error: unknown) => {
      hub.forget(spec.sandboxID);
      this.dependencies.machineDownloads?.withdrawConfig(spec.sandboxID);
      throw error;
    });
    const size = task.cpu !== undefined && task.memoryMiB !== undefined ? task : await this.#definitionSize(signal);
    const details: TaskDetails = {
      taskArn: task.taskArn,
      cluster: this.config.cluster,
      region: this.config.region,
      ...(size.cpu !== undefined && { vcpus: size.cpu / 1024 }),
      ...(size.memoryMiB !== undefined && { memoryGiB: size.memoryMiB / 1024 }),
      ...(spec.job && { job: true as const }),
    };
    const machine: Machine = { machineID: task.taskArn, sandboxID: spec.sandboxID, details: { ...details } };
    try {
      options.onProgress?.(`waiting for task ${shortTaskID(task.taskArn)} to run`);
      await this.#waitForRunning(machine, signal);
      options.onProgress?.(`waiting for agentd of task ${shortTaskID(task.taskArn)} to dial in`);
      await this.#waitForAgent(machine, signal);
      const secretHash = hub.secretHashOf(spec.sandboxID);
      if (secretHash !== undefined) machine.details.channelSecretHash = secretHash;
      return machine;
    } catch (error) {
      hub.forget(spec.sandboxID);
      this.dependencies.machineDownloads?.withdrawConfig(spec.sandboxID);
      await this.#stop(machine, "ciab: the sandbox failed to start").catch((stopError: unknown) =>
        this.logger.error({ err: stopError, taskArn: task.taskArn }, "cannot stop a failed task"),
      );
      throw error;
    }
  }

  async pause(): Promise<void> {
    throw new CiabError("capability_unsupported", "a fargate task cannot be paused: delete the sandbox, or snapshot its work dir first");
  }

  async resume(): Promise<void> {
    throw new CiabError("capability_unsupported", "a fargate task cannot be paused or resumed");
  }

  async destroy(machine: Machine, signal: AbortSignal): Promise<void> {
    this.dependencies.reverseChannels?.forget(machine.sandboxID);
    this.dependencies.machineDownloads?.withdrawConfig(machine.sandboxID);
    // A task ciab already stopped keeps the reason it was stopped for (a session's end) in its record.
    if (!(await this.#isStopping(machine, signal))) await this.#stop(machine, "ciab: the sandbox was deleted", signal);
    const paths = sandboxPaths(this.dependencies.dataDirectory, machine.sandboxID);
    await rm(paths.directory, { recursive: true, force: true });
    await removeAgentSocketLink(paths.socket);
  }

  async listManaged(signal: AbortSignal): Promise<ManagedMachine[]> {
    const tasks = await awsCall("ListTasks", () => this.api.listTasks(this.config.cluster, signal), this.config.region);
    return tasks.flatMap((task) => {
      const sandboxID = task.tags[machineLabels.sandboxID];
      if (sandboxID === undefined || task.tags[machineLabels.managed] !== "true") return [];
      if (task.tags[machineLabels.installationID] !== this.dependencies.installationID) return [];
      // A stopped task is gone for good (ECS lists it for an hour); its sandbox's machine is lost.
      if (task.lastStatus === "STOPPED" || task.desiredStatus === "STOPPED") return [];
      const details = { taskArn: task.taskArn, cluster: this.config.cluster, region: this.config.region };
      return [{ machineID: task.taskArn, sandboxID, state: "running" as const, details, adoptable: false }];
    });
  }

  async connectAgent(machine: Machine): Promise<Duplex> {
    const hub = this.#hub();
    const details = taskDetails(machine);
    // A socket agentd left open is not taken for a task that is stopping or gone.
    const task = await awsCall("DescribeTasks", () => this.api.describeTask(details.cluster, details.taskArn, AbortSignal.timeout(20_000)));
    if (task?.lastStatus !== "RUNNING" || task.desiredStatus === "STOPPED") {
      const why = [task?.stopCode, task?.stoppedReason].filter(Boolean).join(": ");
      const status = task === undefined ? "gone" : task.lastStatus.toLowerCase();
      throw new CiabError("agent_unreachable", `task ${shortTaskID(details.taskArn)} is ${status}${why === "" ? "" : ` (${why})`}`, {
        retryable: task !== undefined && startingStatuses.has(task.lastStatus),
      });
    }
    if (details.channelSecretHash !== undefined) hub.expect(machine.sandboxID, details.channelSecretHash);
    return hub.take(machine.sandboxID, takeWaitMs);
  }

  async jobEnd(machine: Machine, signal: AbortSignal): Promise<MachineJobEnd | undefined> {
    const details = taskDetails(machine);
    if (details.job !== true) return undefined;
    const task = await awsCall("DescribeTasks", () => this.api.describeTask(details.cluster, details.taskArn, signal), details.region);
    if (task?.lastStatus !== "STOPPED") return undefined;
    return { exitCode: task.exitCode, stopCode: task.stopCode, reason: task.stoppedReason };
  }

  async stopJob(machine: Machine, reason: string, signal: AbortSignal): Promise<boolean> {
    if (taskDetails(machine).job !== true) return false;
    if (await this.#isStopping(machine, signal)) return true;
    this.logger.info({ sandboxID: machine.sandboxID, taskArn: machine.machineID, reason }, "stopping the job's task");
    await this.#stop(machine, reason.slice(0, maximumStopReasonLength), signal);
    return true;
  }

  shellCommand(machine: Machine): string[] {
    const details = taskDetails(machine);
    return [
      "aws", "ecs", "execute-command",
      "--region", details.region,
      "--cluster", details.cluster,
      "--task", details.taskArn,
      "--container", this.config.container_name,
      "--interactive",
      "--command", "/bin/bash",
    ];
  }

  async close(): Promise<void> {
    this.api.close();
  }

  #hub(): ReverseChannelHub {
    const hub = this.dependencies.reverseChannels;
    if (hub === undefined) {
      throw new CiabError("invalid_request", "the fargate runtime needs [server] public_url: agentd in the task dials the control plane there");
    }
    return hub;
  }

  /**
   * The single-use URL the entrypoint fetches the sandbox env from, or none for a sandbox without env.
   * RunTask's overrides stay in the task's description (DescribeTasks) and in CloudTrail's record of the
   * call, so the env, which ciab keeps sealed, never goes there; the URL is dead once used.
   */
  #offerConfig(spec: MachineSpec): string | undefined {
    // Only a session's job sets the prompt: a sandbox env's JOB_PROMPT would hold its task waiting for one.
    const env = Object.fromEntries(Object.entries(spec.env).filter(([name]) => name !== "JOB_PROMPT"));
    const names = Object.keys(env);
    if (names.length === 0) return undefined;
    const invalid = names.find((name) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
    if (invalid !== undefined) {
      throw new CiabError("invalid_request", `environment name ${JSON.stringify(invalid)} cannot be passed to a fargate sandbox`);
    }
    if (this.dependencies.machineDownloads === undefined) {
      throw new CiabError("invalid_request", "a fargate sandbox fetches its env at start from a single-use URL of [server] public_url, which is not set");
    }
    return this.dependencies.machineDownloads.offerConfig(spec.sandboxID, { env });
  }

  async #definitionSize(signal: AbortSignal): Promise<{ cpu: number | undefined; memoryMiB: number | undefined }> {
    return awsCall("DescribeTaskDefinition", () => this.api.taskDefinitionSize(this.config.task_definition, signal), this.config.region).catch(
      () => ({ cpu: undefined, memoryMiB: undefined }),
    );
  }

  async #stop(machine: Machine, reason: string, signal: AbortSignal = AbortSignal.timeout(30_000)): Promise<void> {
    const details = taskDetails(machine);
    try {
      await awsCall("StopTask", () => this.api.stopTask(details.cluster, details.taskArn, reason, signal), details.region);
    } catch (error) {
      if (!isTaskNotFound((error as CiabError).cause ?? error)) throw error;
    }
  }

  /** Whether the task is stopping or gone already; false when ECS cannot say, so that a stop is still sent. */
  async #isStopping(machine: Machine, signal: AbortSignal): Promise<boolean> {
    const details = taskDetails(machine);
    const task = await awsCall("DescribeTasks", () => this.api.describeTask(details.cluster, details.taskArn, signal), details.region).catch(() => null);
    if (task === null) return false;
    return task === undefined || task.desiredStatus === "STOPPED" || task.lastStatus === "STOPPED";
  }

  async #waitForRunning(machine: Machine, signal: AbortSignal): Promise<void> {
    const details = taskDetails(machine);
    await pollUntil(
      async (attemptSignal) => {
        const task = await awsCall("DescribeTasks", () => this.api.describeTask(details.cluster, details.taskArn, attemptSignal));
        if (task?.lastStatus === "RUNNING") return true;
        if (task === undefined || task.lastStatus === "STOPPED" || task.desiredStatus === "STOPPED") throw stoppedError(details.taskArn, task);
        return undefined;
      },
      { timeoutMs: this.config.task_ready_timeout_secs * 1000, signal, firstDelayMs: 500, maxDelayMs: 2_000 },
      () => new CiabError("runtime_error", `task ${shortTaskID(details.taskArn)} was not running within ${this.config.task_ready_timeout_secs} s`, { retryable: true }),
    );
  }

  async #waitForAgent(machine: Machine, signal: AbortSignal): Promise<void> {
    const timeoutMs = this.config.task_ready_timeout_secs * 1000;
    await waitForAgentStream(() => this.connectAgent(machine), { timeoutMs, signal, what: `agentd of task ${shortTaskID(machine.machineID)}` });
  }

}

export function createFargateRuntime(
  config: FargateRuntimeConfig,
  dependencies: RuntimeDependencies,
  api: ECSAPI = createECSAPI({ region: config.region, endpoint: config.endpoint }),
): Runtime {
  return new FargateRuntime(config, dependencies, api, dependencies.logger.child({ runtime: "fargate" }));
}
