import { z } from "zod";
import { CiabError } from "@ciab/protocol";
import type { Machine } from "../runtime.js";

/** What a fargate machine keeps in the sandbox row, so that a restarted control plane reaches it again. */
const taskDetailsSchema = z.object({
  taskArn: z.string().min(1),
  cluster: z.string().min(1),
  region: z.string().min(1),
  /** Read by the cost guardrails: the task's size in vCPUs and GiB. */
  vcpus: z.number().positive().optional(),
  memoryGiB: z.number().positive().optional(),
  /** The task runs a headless session's job (docs/decisions/0038): its container's exit is the session's. */
  job: z.literal(true).optional(),
  /** SHA-256 of the reverse channel's secret, so that a restarted control plane accepts agentd again. */
  channelSecretHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});

export type TaskDetails = z.infer<typeof taskDetailsSchema>;

export function taskDetails(machine: Machine): TaskDetails {
  const parsed = taskDetailsSchema.safeParse(machine.details);
  if (!parsed.success) {
    throw new CiabError("internal", `machine ${machine.machineID} has no usable fargate details: ${parsed.error.message}`);
  }
  return parsed.data;
}
