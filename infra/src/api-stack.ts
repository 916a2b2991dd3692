import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { AgentStack } from "./agent-stack.js";
import { ApiDistribution } from "./api-distribution.js";
import { ControlPlaneFunctions } from "./control-plane-functions.js";
import type { EdgeStack } from "./edge-stack.js";
import type { FoundationStack } from "./foundation-stack.js";
import { GitHubDeployRoles } from "./github-deploy-roles.js";
import type { DeploymentSettings } from "./settings.js";

/**
 * The control plane (seed 002): the API on Lambda behind CloudFront and the Edge stack's WAF, the scheduled
 * loops, the admin-only provisioning function, and the GitHub OIDC roles that deploy and invoke it.
 */
export class ApiStack extends Stack {
  readonly functions: ControlPlaneFunctions;
  readonly api: ApiDistribution;
  readonly github: GitHubDeployRoles;

  constructor(scope: Construct, id: string, settings: DeploymentSettings, stacks: { foundation: FoundationStack; agent: AgentStack; edge: EdgeStack }, props?: StackProps) {
    super(scope, id, props);
    this.functions = new ControlPlaneFunctions(this, "ControlPlane", settings, stacks.foundation, stacks.agent);
    this.api = new ApiDistribution(this, "Api", {
      environment: settings.environment,
      api: this.functions.api,
      originVerifySecret: this.functions.originVerifySecret,
      webACLArn: stacks.edge.webACL.attrArn,
      domainName: settings.apiDomainName,
      certificateArn: settings.apiCertificateArn,
    });
    this.github = new GitHubDeployRoles(this, "GitHub", { settings, invocable: [this.functions.api, this.functions.provision] });

    new CfnOutput(this, "ApiUrl", { value: `https://${settings.apiDomainName ?? this.api.distribution.distributionDomainName}`, description: "the API's public URL (CLI: --api-url, SDK: baseURL)" });
    new CfnOutput(this, "ProvisionFunction", { value: this.functions.provision.functionName, description: "aws lambda invoke --function-name … (admin only)" });
    new CfnOutput(this, "DeployRole", { value: this.github.deployRole.roleArn, description: "role-to-assume of the deploy workflow" });
    new CfnOutput(this, "InvokeRole", { value: this.github.invokeRole.roleArn, description: "role-to-assume of workflows that invoke the API or provisioning" });
  }
}
