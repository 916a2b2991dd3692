import { z } from "zod";

const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);
/** A TOML array, or a comma list in an env variable (`CIAB_RUNTIME_FARGATE_SUBNETS=subnet-a,subnet-b`). */
const commaList = z
  .union([z.array(z.string()), z.string().transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))])
  .pipe(z.array(z.string().min(1)));

/** `[runtime.fargate]`: a sandbox is one ECS task on Fargate (docs/decisions/0033-fargate-runtime.md). */
export const fargateRuntimeSchema = z.strictObject({
  region: z.string().min(1).default("us-east-1"),
  /** Another ECS API endpoint (moto in tests, a VPC endpoint in production). */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  cluster: z.string().min(1).default("ciab"),
  /** Family, family:revision or ARN of the agent task definition (the CDK app's Agent stack makes it). */
  task_definition: z.string().min(1).default("ciab-agent"),
  subnets: commaList.default([]),
  security_groups: commaList.default([]),
  assign_public_ip: bool.default(false),
  /** The task definition's container that runs the agent image. */
  container_name: z.string().min(1).default("agent"),
  /** How long a task may take to reach RUNNING, then for its agentd to dial in. */
  task_ready_timeout_secs: z.coerce.number().int().positive().default(300),
});

export type FargateRuntimeConfig = z.infer<typeof fargateRuntimeSchema>;
