import { Duration, Validations } from "aws-cdk-lib";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { providerSecrets, tableActions, tableIndexes, type FoundationStack, type ProviderName } from "./foundation-stack.js";
import type { DeploymentSettings } from "./settings.js";

/** ECS Exec's SSM channels; ssmmessages has no resource-level permissions. */
export const execChannelActions = ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"];

/** The largest Fargate shape (seed 002): 16 vCPU, 120 GiB, 200 GiB of scratch disk. */
export const agentTaskSize = { cpu: 16384, memoryLimitMiB: 122880, ephemeralStorageGiB: 200 } as const;

/** The agent image's container as both task definitions run it: operator, 30 s to stop, 2 h cap, logs. */
export function addAgentContainer(definition: ecs.FargateTaskDefinition, settings: DeploymentSettings, foundation: FoundationStack, options: { streamPrefix: string; secrets?: Record<string, ecs.Secret> }) {
  definition.addContainer("agent", {
    containerName: "agent",
    image: ecs.ContainerImage.fromEcrRepository(foundation.repository, settings.agentImageTag),
    user: "operator",
    essential: true,
    stopTimeout: Duration.seconds(30),
    environment: { JOB_MAX_SECONDS: String(2 * 60 * 60), JOB_STOP_GRACE_SECONDS: "30" },
    ...(options.secrets && { secrets: options.secrets }),
    logging: ecs.LogDrivers.awsLogs({ logGroup: foundation.agentLogGroup, streamPrefix: options.streamPrefix }),
    linuxParameters: new ecs.LinuxParameters(definition, "Linux", { initProcessEnabled: true }),
  });
}

/**
 * Seed 002's standalone job: `aws ecs run-task` of the agent image with `JOB_PROMPT`, without ciab. Its
 * container gets the five provider keys from Secrets Manager at task start, and its role reads those five
 * secrets, reads and writes the one table, and opens ECS Exec's channels. Whoever may run this definition
 * trusts the prompt with those keys; ciab never runs it: ciab's sandboxes run the key-less definition
 * (docs/decisions/0042).
 */
export class StandaloneJobDefinition extends Construct {
  readonly taskDefinition: ecs.FargateTaskDefinition;

  constructor(scope: Construct, id: string, settings: DeploymentSettings, foundation: FoundationStack) {
    super(scope, id);
    const role = new iam.Role(this, "TaskRole", {
      assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
      description: "ciab standalone agent jobs: the five provider secrets, the one table, ECS Exec",
    });
    const secretArns = Object.values(foundation.secrets).map((secret) => secret.secretArn);
    role.addToPolicy(new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], resources: secretArns }));
    const table = foundation.table.tableArn;
    role.addToPolicy(new iam.PolicyStatement({ actions: tableActions, resources: [table, ...tableIndexes.map((index) => `${table}/index/${index}`)] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: execChannelActions, resources: ["*"] }));

    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Job", {
      family: `ciab-${settings.environment}-job`,
      ...agentTaskSize,
      runtimePlatform: { operatingSystemFamily: ecs.OperatingSystemFamily.LINUX, cpuArchitecture: ecs.CpuArchitecture.X86_64 },
      taskRole: role,
    });
    const secrets = Object.fromEntries(
      (Object.keys(providerSecrets) as ProviderName[]).map((provider) => [providerSecrets[provider], ecs.Secret.fromSecretsManager(foundation.secrets[provider])]),
    );
    addAgentContainer(this.taskDefinition, settings, foundation, { streamPrefix: "job", secrets });

    Validations.of(role).acknowledge({ id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]", reason: "ssmmessages (ECS Exec's channels) has no resource-level permissions" });
    Validations.of(this.taskDefinition).acknowledge({
      id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
      reason: "ecr:GetAuthorizationToken, granted by CDK to pull the image, has no resource-level permissions",
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: "AwsSolutions::AwsSolutions-ECS2",
      reason: "the plain environment holds only the run's limits; the provider keys come in as ECS secrets",
    });
  }
}
