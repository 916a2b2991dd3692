import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, expect, test } from "vitest";
import { buildApp } from "../../infra/src/app.js";

/**
 * A fargate sandbox runs a tenant's code in the Agent stack's task: any process in it can take the task
 * role's credentials from ECS's credentials endpoint and read the container's environment. So the role must
 * not reach the state table (the DynamoDB store holds every workspace's records and token hashes: a written
 * token row is an admin's token), and no provider key may be in the task: models go through the control
 * plane's gateway, which holds the keys (docs/decisions/0006).
 */
let agent: Template;

beforeAll(() => {
  const stacks = buildApp(new App({ context: { environment: "prod", githubRepository: "acme/agents", "aws:cdk:bundling-stacks": [] } }));
  stacks.app.synth();
  agent = Template.fromStack(stacks.agent);
}, 120_000);

type Statement = { Action: string | string[]; Resource: unknown };

test("the agent task's role reaches neither the state table nor a secret, and its container holds no provider key", () => {
  const roles = Object.keys(agent.findResources("AWS::IAM::Role", { Properties: { Description: Match.stringLikeRegexp("ciab agent tasks") } }));
  expect(roles).toHaveLength(1);
  const statements = Object.values(agent.findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: roles[0] }] } }))
    .flatMap((policy) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
  const actions = statements.flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
  expect(actions.filter((action) => action.startsWith("dynamodb:"))).toEqual([]);
  expect(actions.filter((action) => action.startsWith("secretsmanager:"))).toEqual([]);

  const definitions = Object.values(agent.findResources("AWS::ECS::TaskDefinition"));
  for (const definition of definitions) {
    for (const container of (definition as { Properties: { ContainerDefinitions: Array<{ Secrets?: unknown[]; Environment?: Array<{ Name: string }> }> } }).Properties.ContainerDefinitions) {
      expect(container.Secrets ?? []).toEqual([]);
      expect((container.Environment ?? []).map((variable) => variable.Name).filter((name) => /API_KEY|SECRET|TOKEN/.test(name))).toEqual([]);
    }
  }
});
