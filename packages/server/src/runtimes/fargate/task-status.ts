import { CiabError } from "@ciab/protocol";
import { awsErrorCode } from "../ec2/ec2-errors.js";
import type { TaskSummary } from "./ecs-client.js";

/** The task's id, the last part of its ARN, for messages. */
export function shortTaskID(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf("/") + 1);
}

/** A task that stopped before it ran, with ECS's code and reason. */
export function stoppedError(taskArn: string, task: TaskSummary | undefined): CiabError {
  const why = task === undefined ? "it is gone" : [task.stopCode, task.stoppedReason].filter(Boolean).join(": ") || "no reason given";
  return new CiabError("runtime_error", `task ${shortTaskID(taskArn)} stopped before it ran: ${why}`, {
    context: { ...(task?.stopCode !== undefined && { awsCode: task.stopCode }), ...(task?.stoppedReason !== undefined && { stoppedReason: task.stoppedReason }) },
  });
}

/** Whether a StopTask or DescribeTasks failed because the task is not there (any more). */
export function isTaskNotFound(error: unknown): boolean {
  const code = awsErrorCode(error);
  return code === "InvalidParameterException" || code === "ResourceNotFoundException";
}
