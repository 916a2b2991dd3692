import { Stack, Token, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { AgentStack } from "./agent-stack.js";
import { tableActions, tableIndexes, type FoundationStack } from "./foundation-stack.js";
import type { DeploymentSettings } from "./settings.js";

/** What a control plane role may reach: the table always, the rest when the role runs sandboxes. */
export interface ControlPlaneRoleProps {
  settings: DeploymentSettings;
  foundation: FoundationStack;
  description: string;
  /** Secrets the role reads. */
  secrets: secretsmanager.ISecret[];
  /** The group the Lambdas write their logs to. */
  logGroup: logs.ILogGroup;
  /** Present when the role starts, stops and lists agent tasks on the cluster. */
  agent?: AgentStack;
  /** The artifact bucket, when the role reads and writes artifacts and snapshots. */
  artifactsBucket?: s3.Bucket;
}

/**
 * A Lambda execution role written by hand: the one table and its indexes by ARN, each secret by ARN, the log
 * group, and, for the roles that run sandboxes, ECS calls held to the agent cluster and task definition family
 * and iam:PassRole on the task's two roles only. No managed policy, no action wildcard.
 */
export class ControlPlaneRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ControlPlaneRoleProps) {
    super(scope, id);
    const { foundation, agent, settings } = props;
    this.role = new iam.Role(this, "Role", { assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"), description: props.description });
    const table = foundation.table.tableArn;
    this.role.addToPolicy(new iam.PolicyStatement({ actions: tableActions, resources: [table, ...tableIndexes.map((index) => `${table}/index/${index}`)] }));
    if (props.secrets.length > 0) {
      this.role.addToPolicy(
        new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], resources: props.secrets.map((secret) => secret.secretArn) }),
      );
    }
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [props.logGroup.logGroupArn] }));
    if (agent) this.allowAgentTasks(settings, foundation, agent);
    // Multipart uploads (lib-storage) need PutObject and AbortMultipartUpload on the objects, nothing on the bucket.
    if (props.artifactsBucket !== undefined) {
      const bucket = props.artifactsBucket;
      this.role.addToPolicy(
        new iam.PolicyStatement({ actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], resources: [bucket.arnForObjects("*")] }),
      );
      const logicalID = Stack.of(bucket).resolve(Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket)) as string;
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalID}.Arn>/*]`,
        reason: "the objects of ciab's one artifact bucket, whose keys are made as artifacts are published",
      });
    }
  }

  private allowAgentTasks(settings: DeploymentSettings, foundation: FoundationStack, agent: AgentStack): void {
    const stack = Stack.of(this);
    const clusterArn = foundation.cluster.clusterArn;
    const onCluster = { ArnEquals: { "ecs:cluster": clusterArn } };
    const ecsArn = (resource: string) => `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:${resource}`;
    // The family, not the revision: the Agent stack may register new revisions without touching this stack.
    const family = agent.taskDefinition.family;
    const tasks = ecsArn(`task/ciab-${settings.environment}-agents/*`);
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ["ecs:RunTask"], resources: [ecsArn(`task-definition/${family}:*`)], conditions: onCluster }));
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ["ecs:StopTask", "ecs:DescribeTasks"], resources: [tasks], conditions: onCluster }));
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ["ecs:TagResource"], resources: [tasks], conditions: { ...onCluster, StringEquals: { "ecs:CreateAction": "RunTask" } } }),
    );
    // ListTasks and DescribeTaskDefinition take no resource ARN; ListTasks is held to the cluster by condition.
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ["ecs:ListTasks"], resources: ["*"], conditions: onCluster }));
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ["ecs:DescribeTaskDefinition"], resources: ["*"] }));
    const taskRoles = [agent.taskDefinition.taskRole.roleArn, agent.taskDefinition.obtainExecutionRole().roleArn];
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ["iam:PassRole"], resources: taskRoles, conditions: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } }),
    );
    // cdk-nag names the findings by the ARN as rendered, with pseudo parameters where the account is not fixed.
    const account = Token.isUnresolved(stack.account) ? "<AWS::AccountId>" : stack.account;
    const acknowledge = (resource: string, reason: string) => Validations.of(this.role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`, reason });
    acknowledge("*", "ecs:ListTasks (held to the agent cluster by the ecs:cluster condition) and ecs:DescribeTaskDefinition take no resource ARN");
    acknowledge(`arn:<AWS::Partition>:ecs:${stack.region}:${account}:task-definition/${family}:*`, "every revision of the agent task definition family, so the Agent stack can register new ones");
    acknowledge(`arn:<AWS::Partition>:ecs:${stack.region}:${account}:task/ciab-${settings.environment}-agents/*`, "tasks of the agent cluster only; their ids are made at RunTask");
  }
}
