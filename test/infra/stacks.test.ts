import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { beforeAll, describe, expect, test } from "vitest";
import { buildApp } from "../../infra/src/app.js";
import { tableDefinition, ttlAttribute } from "../../packages/server/src/store/dynamodb/dynamodb-table-definition.js";

// One synthesis of the whole app (with cdk-nag's AwsSolutions pack as a validation plugin) for the file; the
// Lambdas' bundling is left to api-stack.test.ts.
const noBundling = { "aws:cdk:bundling-stacks": [] };
let foundation: Template;
let agent: Template;
let stacks: ReturnType<typeof buildApp>;

beforeAll(() => {
  stacks = buildApp(new App({ context: { environment: "prod", githubRepository: "acme/agents", ...noBundling } }));
  stacks.app.synth();
  foundation = Template.fromStack(stacks.foundation);
  agent = Template.fromStack(stacks.agent);
}, 120_000);

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
const statementsOf = (template: Template): Statement[] =>
  Object.values(template.findResources("AWS::IAM::Policy")).flatMap(
    (policy) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
const actionsOf = (statement: Statement): string[] => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);

describe("the Foundation stack", () => {
  test("one DynamoDB table: pay per request, point-in-time recovery, deletion protection, retained, with the store's keys and indexes", () => {
    foundation.resourceCountIs("AWS::DynamoDB::Table", 1);
    foundation.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      Properties: {
        TableName: "ciab-prod-state",
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: "gsi1" }), Match.objectLike({ IndexName: "gsi2" })],
        TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
      },
    });
  });

  test("the table's keys, attributes and indexes are the ones the DynamoDB store creates (ciab store init)", () => {
    const store = tableDefinition("ciab-prod-state");
    const [properties] = Object.values(foundation.findResources("AWS::DynamoDB::Table")).map(
      (resource) => (resource as { Properties: Record<string, unknown> }).Properties,
    );
    const sortedByName = (list: unknown) => [...(list as { AttributeName: string }[])].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));
    expect(properties!.KeySchema).toEqual(store.KeySchema);
    expect(sortedByName(properties!.AttributeDefinitions)).toEqual(sortedByName(store.AttributeDefinitions));
    expect(properties!.GlobalSecondaryIndexes).toEqual(store.GlobalSecondaryIndexes);
  });

  test("five provider secrets, a 2-AZ VPC with flow logs, a cluster with Container Insights v2, a repository keeping ten images, logs kept two weeks", () => {
    for (const provider of ["anthropic", "openai", "gemini", "xai", "openrouter"]) {
      foundation.hasResourceProperties("AWS::SecretsManager::Secret", { Name: `ciab-prod-${provider}-api-key` });
    }
    foundation.resourceCountIs("AWS::SecretsManager::Secret", 5);
    foundation.resourceCountIs("AWS::EC2::VPC", 1);
    foundation.resourceCountIs("AWS::EC2::Subnet", 4);
    foundation.resourceCountIs("AWS::EC2::NatGateway", 1);
    foundation.resourceCountIs("AWS::EC2::FlowLog", 1);
    foundation.hasResourceProperties("AWS::ECS::Cluster", { ClusterName: "ciab-prod-agents", ClusterSettings: [{ Name: "containerInsights", Value: "enhanced" }] });
    foundation.hasResourceProperties("AWS::ECR::Repository", {
      RepositoryName: "ciab-prod-agent",
      LifecyclePolicy: { LifecyclePolicyText: Match.serializedJson(Match.objectLike({ rules: [Match.objectLike({ selection: Match.objectLike({ countType: "imageCountMoreThan", countNumber: 10 }) })] })) },
    });
    for (const name of ["/ciab/prod/agent", "/ciab/prod/api"]) foundation.hasResourceProperties("AWS::Logs::LogGroup", { LogGroupName: name, RetentionInDays: 14 });
    for (const group of Object.values(foundation.findResources("AWS::Logs::LogGroup"))) {
      expect((group as { Properties: { RetentionInDays?: number } }).Properties.RetentionInDays).toBe(14);
    }
  });
});

describe("the Agent stack", () => {
  test.each(["ciab-prod-agent", "ciab-prod-job"])("%s: 16 vCPU, 120 GiB and 200 GiB, running the agent image as operator with a 30 s stop timeout and CloudWatch logs", (family) => {
    agent.resourceCountIs("AWS::ECS::TaskDefinition", 2);
    agent.hasResourceProperties("AWS::ECS::TaskDefinition", {
      Family: family,
      Cpu: "16384",
      Memory: "122880",
      EphemeralStorage: { SizeInGiB: 200 },
      NetworkMode: "awsvpc",
      RequiresCompatibilities: ["FARGATE"],
      ContainerDefinitions: [
        Match.objectLike({
          Name: "agent",
          User: "operator",
          StopTimeout: 30,
          Essential: true,
          LinuxParameters: { InitProcessEnabled: true },
          LogConfiguration: Match.objectLike({ LogDriver: "awslogs" }),
        }),
      ],
    });
  });

  // Whatever runs in a sandbox (the agent, a cloned repository's scripts) reads the container's environment
  // and the task role's credentials (169.254.170.2): the installation's provider keys and the state table of
  // every workspace must be in neither. Models are reached through ciab's gateway (docs/decisions/0042).
  test("a sandbox's container holds no provider key: no ECS secret, no key in its environment", () => {
    const definition = Object.values(agent.findResources("AWS::ECS::TaskDefinition", { Properties: { Family: "ciab-prod-agent" } }))[0] as {
      Properties: { ContainerDefinitions: { Secrets?: unknown[]; Environment?: { Name: string }[] }[] };
    };
    for (const container of definition.Properties.ContainerDefinitions) {
      expect(container.Secrets ?? []).toEqual([]);
      expect((container.Environment ?? []).map((variable) => variable.Name).filter((name) => /KEY|TOKEN|SECRET/.test(name))).toEqual([]);
    }
  });

  test("the task role holds only ECS Exec's channels: no table, no secret, no S3, no IAM", () => {
    const role = Object.keys(agent.findResources("AWS::IAM::Role", { Properties: { Description: Match.stringLikeRegexp("ciab agent tasks") } }))[0]!;
    const policies = Object.values(agent.findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: role }] } }));
    expect(policies).toHaveLength(1);
    const statements = (policies[0] as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement;
    expect(statements.flatMap(actionsOf).sort()).toEqual(
      ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"].sort(),
    );
  });

  test("no role of ciab's sandbox definition reads a secret or the table: its execution role only pulls the image and writes logs", () => {
    const definition = Object.values(agent.findResources("AWS::ECS::TaskDefinition", { Properties: { Family: "ciab-prod-agent" } }))[0] as {
      Properties: { TaskRoleArn: { "Fn::GetAtt": [string] }; ExecutionRoleArn: { "Fn::GetAtt": [string] } };
    };
    const roles = [definition.Properties.TaskRoleArn["Fn::GetAtt"][0], definition.Properties.ExecutionRoleArn["Fn::GetAtt"][0]];
    const reach = Object.values(agent.findResources("AWS::IAM::Policy"))
      .filter((policy) => (policy as { Properties: { Roles: { Ref: string }[] } }).Properties.Roles.some((role) => roles.includes(role.Ref)))
      .flatMap((policy) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement)
      .flatMap(actionsOf)
      .filter((action) => /^(secretsmanager|dynamodb|kms):/.test(action));
    expect(reach).toEqual([]);
  });

  // Seed 002's standalone job (aws ecs run-task with JOB_PROMPT, without ciab): keys from Secrets Manager at
  // task start, a role reading only the five secrets and only the one table, and ECS Exec.
  test("the standalone job definition gets the five keys from Secrets Manager, and its role reads only them and the one table", () => {
    const definition = Object.values(agent.findResources("AWS::ECS::TaskDefinition", { Properties: { Family: "ciab-prod-job" } }))[0] as {
      Properties: { TaskRoleArn: { "Fn::GetAtt": [string] }; ContainerDefinitions: { Secrets: { Name: string }[] }[] };
    };
    expect(definition.Properties.ContainerDefinitions[0]!.Secrets.map((secret) => secret.Name).sort()).toEqual(
      ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "XAI_API_KEY"],
    );
    const role = definition.Properties.TaskRoleArn["Fn::GetAtt"][0];
    const statements = Object.values(agent.findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: role }] } })).flatMap(
      (policy) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
    );
    const byService = (prefix: string) => statements.filter((statement) => actionsOf(statement).every((action) => action.startsWith(prefix)));
    expect(byService("secretsmanager:")).toHaveLength(1);
    expect(byService("secretsmanager:")[0]!.Resource).toHaveLength(5);
    const table = byService("dynamodb:")[0]!;
    expect(JSON.stringify(table.Resource)).toMatch(/index\/gsi1/);
    expect(actionsOf(table)).not.toContain("dynamodb:DeleteTable");
    expect(byService("ssmmessages:")[0]!.Resource).toBe("*");
    expect(statements.flatMap(actionsOf).filter((action) => !/^(secretsmanager|dynamodb|ssmmessages):/.test(action))).toEqual([]);
  });

  test("no IAM statement in any stack has * as its action", () => {
    for (const template of [foundation, agent]) {
      for (const statement of statementsOf(template)) expect(actionsOf(statement).filter((action) => action === "*" || action.endsWith(":*"))).toEqual([]);
    }
  });
});

describe("cdk-nag's AwsSolutions pack", () => {
  test("the app synthesizes with no unacknowledged finding, and every acknowledgement has a reason", () => {
    const acknowledged = stacks.app.node
      .findAll()
      .flatMap((construct) => construct.node.metadata.filter((entry) => entry.type === "aws:cdk:acknowledged-rules"))
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .filter(([id]) => id.startsWith("AwsSolutions::"));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [, reason] of acknowledged) expect(reason.length).toBeGreaterThan(20);
  });

  test("an unacknowledged finding fails the synthesis", () => {
    const app = new App({ context: { environment: "nagcheck", ...noBundling } });
    const built = buildApp(app);
    new secretsmanager.Secret(new Stack(built.app, "Loose"), "NotRotated");
    expect(() => built.app.synth()).toThrow(/AwsSolutions-SMG4|[Vv]alidation/);
  });
});
