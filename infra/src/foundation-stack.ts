import { RemovalPolicy, Stack, Validations, type StackProps } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import type { DeploymentSettings } from "./settings.js";

/** The five model providers whose keys the agent tasks get, and the env variable each key becomes. */
export const providerSecrets = {
  anthropic: "ANTHROPIC_API_KEY",
  openai: "OPENAI_API_KEY",
  gemini: "GEMINI_API_KEY",
  xai: "XAI_API_KEY",
  openrouter: "OPENROUTER_API_KEY",
} as const;
export type ProviderName = keyof typeof providerSecrets;

/**
 * The table's global secondary indexes, as the DynamoDB store lays them out (docs/decisions/0035): gsi1 lists a
 * workspace's records of one kind, gsi2 lists records across workspaces by kind and state (test/infra checks
 * the table against the store's own definition).
 */
export const tableIndexes = ["gsi1", "gsi2"] as const;

/** What the store does with its table (docs: the DynamoDB store's access patterns). */
export const tableActions = [
  "dynamodb:BatchGetItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DeleteItem",
  "dynamodb:DescribeTable",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:Query",
  "dynamodb:UpdateItem",
];

/**
 * Shared primitives (seed 002): the single DynamoDB table, the provider secrets, a 2-AZ VPC, the ECS cluster,
 * the ECR repository of the agent image and the log groups. Everything stateful is retained on delete.
 */
export class FoundationStack extends Stack {
  readonly table: dynamodb.Table;
  readonly secrets: Record<ProviderName, secretsmanager.Secret>;
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly repository: ecr.Repository;
  readonly agentLogGroup: logs.LogGroup;
  readonly apiLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, settings: DeploymentSettings, props?: StackProps) {
    super(scope, id, props);
    const name = (suffix: string) => `ciab-${settings.environment}-${suffix}`;

    this.table = new dynamodb.Table(this, "Table", {
      tableName: name("state"),
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
      sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: "ttl",
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of tableIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index,
        partitionKey: { name: `${index}pk`, type: dynamodb.AttributeType.STRING },
        sortKey: { name: `${index}sk`, type: dynamodb.AttributeType.STRING },
      });
    }

    this.secrets = Object.fromEntries(
      (Object.keys(providerSecrets) as ProviderName[]).map((provider) => [
        provider,
        new secretsmanager.Secret(this, `${provider}-key`, {
          secretName: name(`${provider}-api-key`),
          description: `The ${provider} API key (${providerSecrets[provider]}) for standalone runs of the agent image; ciab's sandboxes never get it.`,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      ]),
    ) as Record<ProviderName, secretsmanager.Secret>;
    for (const secret of Object.values(this.secrets)) {
      Validations.of(secret).acknowledge({
        id: "AwsSolutions::AwsSolutions-SMG4",
        reason: "model providers' API keys are issued by the providers; Secrets Manager cannot rotate them, operators do",
      });
    }

    const flowLogs = new logs.LogGroup(this, "VpcFlowLogs", { retention: logs.RetentionDays.TWO_WEEKS, removalPolicy: RemovalPolicy.DESTROY });
    this.vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: "agents", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) } },
    });

    this.cluster = new ecs.Cluster(this, "Cluster", {
      clusterName: name("agents"),
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });

    this.repository = new ecr.Repository(this, "AgentImages", {
      repositoryName: name("agent"),
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.MUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      lifecycleRules: [{ description: "keep the last ten images", maxImageCount: 10 }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.agentLogGroup = new logs.LogGroup(this, "AgentLogs", {
      logGroupName: `/ciab/${settings.environment}/agent`,
      retention: logs.RetentionDays.TWO_WEEKS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.apiLogGroup = new logs.LogGroup(this, "ApiLogs", {
      logGroupName: `/ciab/${settings.environment}/api`,
      retention: logs.RetentionDays.TWO_WEEKS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
