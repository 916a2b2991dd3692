import path from "node:path";
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { AgentStack } from "./agent-stack.js";
import { ControlPlaneRole } from "./control-plane-role.js";
import type { FoundationStack } from "./foundation-stack.js";
import { agentdBundleInLambda, controlPlaneBundling, lambdaEntries, lambdaRuntime, repositoryRoot } from "./lambda-bundling.js";
import type { DeploymentSettings } from "./settings.js";

/**
 * The control plane's three Lambdas: the API (answering CloudFront through its function URL), one pass of
 * the background loops every minute, and the admin-only provisioning function, invoked by name and by
 * nothing else (no URL, no trigger, no resource policy).
 */
export class ControlPlaneFunctions extends Construct {
  readonly api: nodejs.NodejsFunction;
  readonly scheduled: nodejs.NodejsFunction;
  readonly provision: nodejs.NodejsFunction;
  /** The value CloudFront sends in `x-ciab-origin-verify`, so the API answers only requests that came through it. */
  readonly originVerifySecret: secretsmanager.Secret;
  /** Artifacts and snapshots: every Lambda container has its own /tmp, so they live in S3. */
  readonly artifactsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, settings: DeploymentSettings, foundation: FoundationStack, agent: AgentStack) {
    super(scope, id);
    const name = (suffix: string) => `ciab-${settings.environment}-${suffix}`;
    const region = Stack.of(this).region;

    // Lambdas keep no disk between containers: the key that seals secrets at rest must be one for all of them.
    const dataKey = new secretsmanager.Secret(this, "DataKey", {
      secretName: name("data-key"),
      description: "ciab's data key (seals sandbox env and secrets in the table); rotating it makes sealed values unreadable",
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.originVerifySecret = new secretsmanager.Secret(this, "OriginVerify", {
      secretName: name("origin-verify"),
      description: "sent by CloudFront to the API's function URL in x-ciab-origin-verify; requests without it are refused",
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    for (const secret of [dataKey, this.originVerifySecret]) {
      Validations.of(secret).acknowledge({
        id: "AwsSolutions::AwsSolutions-SMG4",
        reason: "rotation would break sealed values (data key) or cut CloudFront off until the distribution is redeployed (origin verify); rotate by redeploying",
      });
    }

    this.artifactsBucket = new s3.Bucket(this, "Artifacts", {
      bucketName: name(`artifacts-${Stack.of(this).account}`),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Half-sent multipart uploads of a publish that failed cost storage until aborted.
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.artifactsBucket).acknowledge({
      id: "AwsSolutions::AwsSolutions-S1",
      reason: "every publish, download and delete of an artifact is in ciab's own audit log with its actor; CloudTrail data events can be turned on for the bucket",
    });

    const environment = {
      NODE_OPTIONS: "--enable-source-maps",
      CIAB_DATA_DIR: "/tmp/ciab",
      CIAB_DATA_KEY_SECRET_ARN: dataKey.secretArn,
      CIAB_AGENTD_BUNDLE: agentdBundleInLambda,
      CIAB_STORE_DRIVER: "dynamodb",
      CIAB_STORE_TABLE: foundation.table.tableName,
      CIAB_STORE_REGION: region,
      CIAB_STORE_CREATE_TABLE: "false",
      CIAB_ARTIFACTS_BACKEND: "s3",
      CIAB_ARTIFACTS_S3_BUCKET: this.artifactsBucket.bucketName,
      CIAB_ARTIFACTS_S3_REGION: region,
      CIAB_RUNTIME: "fargate",
      CIAB_RUNTIME_ENABLED: "fargate",
      CIAB_RUNTIME_FARGATE_REGION: region,
      CIAB_RUNTIME_FARGATE_CLUSTER: foundation.cluster.clusterName,
      CIAB_RUNTIME_FARGATE_TASK_DEFINITION: agent.taskDefinition.family,
      CIAB_RUNTIME_FARGATE_SUBNETS: foundation.vpc.privateSubnets.map((subnet) => subnet.subnetId).join(","),
      CIAB_RUNTIME_FARGATE_SECURITY_GROUPS: agent.securityGroup.securityGroupId,
    };

    // Each role reads only the secrets its handler opens. No Lambda reads the provider keys: sessions, and the
    // model gateway that would send them, need the long-running server.
    const controlPlane = new ControlPlaneRole(this, "ControlPlaneRole", {
      settings,
      foundation,
      agent,
      description: "ciab API Lambda: the state table, the data key and origin secret, agent tasks on the cluster",
      secrets: [dataKey, this.originVerifySecret],
      logGroup: foundation.apiLogGroup,
      artifactsBucket: this.artifactsBucket,
    });
    const loops = new ControlPlaneRole(this, "ScheduledRole", {
      settings,
      foundation,
      agent,
      description: "ciab scheduled Lambda: the state table, the data key, agent tasks on the cluster",
      secrets: [dataKey],
      logGroup: foundation.apiLogGroup,
      artifactsBucket: this.artifactsBucket,
    });
    const provisioning = new ControlPlaneRole(this, "ProvisionRole", {
      settings,
      foundation,
      description: "ciab provisioning Lambda: the state table and the data key",
      secrets: [dataKey],
      logGroup: foundation.apiLogGroup,
    });

    const common = {
      runtime: lambdaRuntime,
      architecture: lambda.Architecture.ARM_64,
      projectRoot: repositoryRoot,
      depsLockFilePath: path.join(repositoryRoot, "package-lock.json"),
      logGroup: foundation.apiLogGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
    };
    this.api = new nodejs.NodejsFunction(this, "Api", {
      ...common,
      functionName: name("api"),
      description: "ciab API (Hono through hono/aws-lambda) behind CloudFront",
      entry: path.join(repositoryRoot, lambdaEntries.api),
      role: controlPlane.role,
      bundling: controlPlaneBundling({ withAgentd: true }),
      memorySize: 1024,
      // CloudFront waits 30 s for an origin by default.
      timeout: Duration.seconds(30),
      // Its ceiling as well: waiting requests cannot starve the account's other functions (settings.ts).
      reservedConcurrentExecutions: settings.apiReservedConcurrency,
      environment: { ...environment, CIAB_ORIGIN_VERIFY_SECRET_ARN: this.originVerifySecret.secretArn },
    });
    this.scheduled = new nodejs.NodejsFunction(this, "Scheduled", {
      ...common,
      functionName: name("scheduled"),
      description: "ciab background loops: one bounded pass of the reconciler, reaper and budget a minute",
      entry: path.join(repositoryRoot, lambdaEntries.scheduled),
      role: loops.role,
      bundling: controlPlaneBundling({ withAgentd: true }),
      memorySize: 512,
      timeout: Duration.seconds(55),
      // One pass at a time: the loops assume a single runner (the long-running server holds a lease for this).
      reservedConcurrentExecutions: 1,
      environment,
    });
    this.provision = new nodejs.NodejsFunction(this, "Provision", {
      ...common,
      functionName: name("provision"),
      description: "ciab provisioning (installation admin, first token): admin-only, invoked by name",
      entry: path.join(repositoryRoot, lambdaEntries.provision),
      role: provisioning.role,
      bundling: controlPlaneBundling({ withAgentd: false }),
      memorySize: 512,
      timeout: Duration.seconds(60),
      environment: { NODE_OPTIONS: environment.NODE_OPTIONS, CIAB_DATA_DIR: environment.CIAB_DATA_DIR, CIAB_DATA_KEY_SECRET_ARN: dataKey.secretArn, CIAB_STORE_DRIVER: "dynamodb", CIAB_STORE_TABLE: environment.CIAB_STORE_TABLE, CIAB_STORE_REGION: region, CIAB_STORE_CREATE_TABLE: "false" },
    });

    new events.Rule(this, "EveryMinute", {
      ruleName: name("loops"),
      description: "one pass of ciab's background loops",
      schedule: events.Schedule.rate(Duration.minutes(1)),
      // A missed pass is made up by the next one a minute later.
      targets: [new targets.LambdaFunction(this.scheduled, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
  }
}
