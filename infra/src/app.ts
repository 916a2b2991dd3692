import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { AgentStack } from "./agent-stack.js";
import { FoundationStack } from "./foundation-stack.js";
import { readDeploymentSettings } from "./settings.js";

/** The stacks of one deployment, checked by cdk-nag's AwsSolutions pack. */
export function buildApp(app: App = new App()): { app: App; foundation: FoundationStack; agent: AgentStack } {
  // Cross-stack references as CloudFormation exports: the consumer stack must go before its producer changes.
  if (app.node.tryGetContext("@aws-cdk/core:defaultCrossStackReferences") === undefined) app.node.setContext("@aws-cdk/core:defaultCrossStackReferences", "strong");
  const settings = readDeploymentSettings((key) => app.node.tryGetContext(key));
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const prefix = `Ciab-${settings.environment}`;
  const foundation = new FoundationStack(app, `${prefix}-Foundation`, settings, { env, description: "ciab: table, secrets, network, cluster, image repository, logs" });
  const agent = new AgentStack(app, `${prefix}-Agent`, settings, foundation, { env, description: "ciab: the Fargate agent task" });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, foundation, agent };
}
