import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { AgentStack } from "./agent-stack.js";
import { ApiStack } from "./api-stack.js";
import { EdgeStack, edgeRegion } from "./edge-stack.js";
import { FoundationStack } from "./foundation-stack.js";
import { readDeploymentSettings } from "./settings.js";

export interface CiabApp {
  app: App;
  foundation: FoundationStack;
  agent: AgentStack;
  edge: EdgeStack;
  api: ApiStack;
}

/** The stacks of one deployment, checked by cdk-nag's AwsSolutions pack. */
export function buildApp(app: App = new App()): CiabApp {
  // Cross-stack references as CloudFormation exports: the consumer stack must go before its producer changes.
  if (app.node.tryGetContext("@aws-cdk/core:defaultCrossStackReferences") === undefined) app.node.setContext("@aws-cdk/core:defaultCrossStackReferences", "strong");
  const settings = readDeploymentSettings((key) => app.node.tryGetContext(key));
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const env = { account, region: settings.region };
  const prefix = `Ciab-${settings.environment}`;
  const foundation = new FoundationStack(app, `${prefix}-Foundation`, settings, { env, description: "ciab: table, secrets, network, cluster, image repository, logs" });
  const agent = new AgentStack(app, `${prefix}-Agent`, settings, foundation, { env, description: "ciab: the Fargate agent task" });
  const edge = new EdgeStack(app, `${prefix}-Edge`, settings, { env: { account, region: edgeRegion }, description: "ciab: the WAF web ACL of the API's CloudFront distribution" });
  // The web ACL's ARN crosses regions (through SSM parameters that CDK writes and reads) unless the app is in us-east-1.
  const api = new ApiStack(app, `${prefix}-Api`, settings, { foundation, agent, edge }, { env, crossRegionReferences: true, description: "ciab: the control plane on Lambda behind CloudFront and WAF, GitHub OIDC roles" });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, foundation, agent, edge, api };
}
