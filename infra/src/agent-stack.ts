import { CfnOutput, Stack, Validations, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import type { Construct } from "constructs";
import type { FoundationStack } from "./foundation-stack.js";
import type { DeploymentSettings } from "./settings.js";
import { addAgentContainer, agentTaskSize, execChannelActions, StandaloneJobDefinition } from "./standalone-job-definition.js";

/**
 * The agent runtime (seed 002): one Fargate task definition running the agent image (infra/agent-image) as
 * the non-root `operator`, SIGTERM → 30 s → SIGKILL, logs to CloudWatch, ECS Exec on. Every tenant's code
 * runs in these tasks and can read their environment and their task role's credentials, so neither holds a
 * provider key or the state table: models are reached through ciab's gateway, the table through the control
 * plane (docs/decisions/0042). The task role holds only what ECS Exec needs. Beside it, seed 002's standalone
 * job definition (standalone-job-definition.ts), which ciab never runs.
 */
export class AgentStack extends Stack {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly jobTaskDefinition: ecs.FargateTaskDefinition;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, settings: DeploymentSettings, foundation: FoundationStack, props?: StackProps) {
    super(scope, id, props);

    const taskRole = new iam.Role(this, "TaskRole", {
      assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
      description: "ciab agent tasks: ECS Exec only (the provider keys and the state table stay with the control plane)",
    });
    // ECS Exec's SSM channels: ssmmessages has no resource-level permissions, so its resource is "*".
    taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: execChannelActions,
        resources: ["*"],
      }),
    );

    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Agent", {
      family: `ciab-${settings.environment}-agent`,
      ...agentTaskSize,
      runtimePlatform: { operatingSystemFamily: ecs.OperatingSystemFamily.LINUX, cpuArchitecture: ecs.CpuArchitecture.X86_64 },
      taskRole,
    });
    addAgentContainer(this.taskDefinition, settings, foundation, { streamPrefix: "agent" });
    this.jobTaskDefinition = new StandaloneJobDefinition(this, "Standalone", settings, foundation).taskDefinition;

    this.securityGroup = new ec2.SecurityGroup(this, "AgentTasks", {
      vpc: foundation.vpc,
      description: "ciab agent tasks: no inbound, outbound to the control plane and the model APIs",
      allowAllOutbound: true,
    });

    new CfnOutput(this, "TaskDefinition", { value: this.taskDefinition.taskDefinitionArn, description: "[runtime.fargate] task_definition" });
    new CfnOutput(this, "JobTaskDefinition", { value: this.jobTaskDefinition.taskDefinitionArn, description: "seed 002's standalone jobs (aws ecs run-task with JOB_PROMPT); not for ciab" });
    new CfnOutput(this, "Cluster", { value: foundation.cluster.clusterName, description: "[runtime.fargate] cluster" });
    new CfnOutput(this, "SecurityGroup", { value: this.securityGroup.securityGroupId, description: "[runtime.fargate] security_groups" });
    new CfnOutput(this, "Subnets", {
      value: foundation.vpc.privateSubnets.map((subnet) => subnet.subnetId).join(","),
      description: "[runtime.fargate] subnets",
    });

    Validations.of(taskRole).acknowledge({
      id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
      reason: "ssmmessages (ECS Exec's channels) has no resource-level permissions",
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
      reason: "ecr:GetAuthorizationToken, granted by CDK to pull the image, has no resource-level permissions",
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: "AwsSolutions::AwsSolutions-ECS2",
      reason: "the plain environment holds only the run's limits; no provider key enters the task (the gateway holds them)",
    });
  }
}
