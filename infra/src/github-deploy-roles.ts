import { Duration, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { edgeRegion } from "./edge-stack.js";
import type { DeploymentSettings } from "./settings.js";

const githubIssuer = "token.actions.githubusercontent.com";

/** The CDK bootstrap roles a deployment uses (`cdk bootstrap`'s default names with the qualifier). */
export const bootstrapRoleKinds = ["deploy", "file-publishing", "image-publishing", "lookup"] as const;

export interface GitHubDeployRolesProps {
  settings: DeploymentSettings;
  /** The functions the invoke role may invoke, and nothing else. */
  invocable: lambda.IFunction[];
}

/**
 * GitHub Actions' way in (seed 002): the account's OIDC provider for token.actions.githubusercontent.com, a
 * deploy role and an invoke role. Both trust exactly one subject, `repo:<org>/<repo>:environment:<env>`, with
 * StringEquals on sub and aud: no pattern, no other branch, no pull request. The deploy role can only assume the
 * CDK bootstrap roles of this account in the app's regions; the invoke role can only invoke the named functions.
 */
export class GitHubDeployRoles extends Construct {
  readonly provider: iam.IOidcProvider;
  readonly deployRole: iam.Role;
  readonly invokeRole: iam.Role;

  constructor(scope: Construct, id: string, props: GitHubDeployRolesProps) {
    super(scope, id);
    const { settings } = props;
    const stack = Stack.of(this);
    this.provider = settings.githubOidcProviderArn
      ? iam.OidcProviderNative.fromOidcProviderArn(this, "Provider", settings.githubOidcProviderArn)
      : new iam.OidcProviderNative(this, "Provider", { url: `https://${githubIssuer}`, clientIds: ["sts.amazonaws.com"] });

    const trust = () =>
      new iam.WebIdentityPrincipal(this.provider.oidcProviderArn, {
        StringEquals: {
          [`${githubIssuer}:aud`]: "sts.amazonaws.com",
          [`${githubIssuer}:sub`]: `repo:${settings.githubRepository}:environment:${settings.environment}`,
        },
      });

    this.deployRole = new iam.Role(this, "DeployRole", {
      roleName: `ciab-${settings.environment}-github-deploy`,
      description: `GitHub Actions of ${settings.githubRepository} in environment ${settings.environment}: cdk deploy through the bootstrap roles`,
      assumedBy: trust(),
      maxSessionDuration: Duration.hours(1),
    });
    const regions = [...new Set([settings.region, edgeRegion])];
    this.deployRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ["sts:AssumeRole", "sts:TagSession"],
        resources: regions.flatMap((region) =>
          bootstrapRoleKinds.map((kind) => `arn:${stack.partition}:iam::${stack.account}:role/cdk-${settings.bootstrapQualifier}-${kind}-role-${stack.account}-${region}`),
        ),
      }),
    );

    this.invokeRole = new iam.Role(this, "InvokeRole", {
      roleName: `ciab-${settings.environment}-github-invoke`,
      description: `GitHub Actions of ${settings.githubRepository} in environment ${settings.environment}: invoke the API and provisioning functions`,
      assumedBy: trust(),
      maxSessionDuration: Duration.hours(1),
    });
    this.invokeRole.addToPolicy(new iam.PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: props.invocable.map((fn) => fn.functionArn) }));
  }
}
