import { ArnFormat, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as logs from "aws-cdk-lib/aws-logs";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import type { Construct } from "constructs";
import type { DeploymentSettings } from "./settings.js";

/** CloudFront takes only web ACLs of scope CLOUDFRONT, and those exist only in us-east-1. */
export const edgeRegion = "us-east-1";

/**
 * The API's code and file contents travel in request bodies by design (a file that holds HTML, a command that
 * reads `../x`), so the common rule set's body rules count instead of block; the rest of it blocks.
 */
export const countedCommonRules = ["SizeRestrictions_BODY", "CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY"];

const managedRuleSets = ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"] as const;

/**
 * The WAF web ACL in front of the API's CloudFront distribution: AWS's IP reputation, common and known-bad-inputs
 * rule sets and a rate rule per client address, every request logged to a CloudWatch group kept two weeks. It
 * is its own stack because a CLOUDFRONT web ACL must live in us-east-1 whatever region the API runs in.
 */
export class EdgeStack extends Stack {
  readonly webACL: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, settings: DeploymentSettings, props?: StackProps) {
    super(scope, id, props);
    const name = `ciab-${settings.environment}-api`;
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });

    const managedRules: wafv2.CfnWebACL.RuleProperty[] = managedRuleSets.map((ruleSet, priority) => ({
      name: ruleSet,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: "AWS",
          name: ruleSet,
          ...(ruleSet === "AWSManagedRulesCommonRuleSet"
            ? { ruleActionOverrides: countedCommonRules.map((rule) => ({ name: rule, actionToUse: { count: {} } })) }
            : {}),
        },
      },
      visibilityConfig: visibility(ruleSet),
    }));
    this.webACL = new wafv2.CfnWebACL(this, "ApiWebACL", {
      name,
      scope: "CLOUDFRONT",
      description: "ciab API: AWS managed rule sets and a rate limit per client address",
      defaultAction: { allow: {} },
      visibilityConfig: visibility(name),
      rules: [
        ...managedRules,
        {
          name: "rate-per-address",
          priority: managedRules.length,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: settings.apiRateLimit, evaluationWindowSec: 300, aggregateKeyType: "IP" } },
          visibilityConfig: visibility(`${name}-rate`),
        },
      ],
    });

    // WAF writes only to log groups named aws-waf-logs-*, and takes their ARN without the trailing ":*".
    const logGroupName = `aws-waf-logs-ciab-${settings.environment}`;
    const logGroup = new logs.LogGroup(this, "WebACLLogs", { logGroupName, retention: logs.RetentionDays.TWO_WEEKS, removalPolicy: RemovalPolicy.RETAIN });
    const logging = new wafv2.CfnLoggingConfiguration(this, "WebACLLogging", {
      resourceArn: this.webACL.attrArn,
      logDestinationConfigs: [this.formatArn({ service: "logs", resource: "log-group", resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    });
    logging.node.addDependency(logGroup);
  }
}
