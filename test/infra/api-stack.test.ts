import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildApp } from "../../infra/src/app.js";
import { readDeploymentSettings } from "../../infra/src/settings.js";
import { actionsOf, allStatements, resourcesOf, type Statement } from "./policy-statements.js";
import { synthesizeApp, type SynthesizedApp } from "./synthesize-app.js";

// One synthesis of the whole app with the Lambdas really bundled by esbuild, for the file.
let synthesized: SynthesizedApp;
let outdir: string;
let api: Template;
let edge: Template;
let templates: Record<string, Template>;

beforeAll(async () => {
  synthesized = await synthesizeApp({ environment: "prod", githubRepository: "acme/agents", "aws:cdk:enable-asset-metadata": true });
  outdir = synthesized.outdir;
  api = synthesized.template("Ciab-prod-Api");
  edge = synthesized.template("Ciab-prod-Edge");
  templates = { foundation: synthesized.template("Ciab-prod-Foundation"), agent: synthesized.template("Ciab-prod-Agent"), edge, api };
}, 180_000);
afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const logicalID = (template: Template, type: string, properties: Record<string, unknown>): string => {
  const found = Object.keys(template.findResources(type, { Properties: properties }));
  expect(found, `${type} ${JSON.stringify(properties)}`).toHaveLength(1);
  return found[0]!;
};
const functionID = (name: string) => logicalID(api, "AWS::Lambda::Function", { FunctionName: `ciab-prod-${name}` });
const policyOf = (roleID: string): Statement[] =>
  Object.values(api.findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: roleID }] } })).flatMap(
    (policy) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
const assetOf = (name: string): string => path.join(outdir, (api.toJSON().Resources[functionID(name)].Metadata as Record<string, string>)["aws:asset:path"]!);
const roleOf = (id: string): string => ((api.toJSON().Resources[id].Properties.Role as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0]!);

describe("the API stack's Lambdas", () => {
  test("three Node.js 24 functions bundled by esbuild into ES modules, the native addons replaced, agentd shipped beside the API", () => {
    for (const name of ["api", "scheduled", "provision"]) {
      api.hasResourceProperties("AWS::Lambda::Function", { FunctionName: `ciab-prod-${name}`, Runtime: "nodejs24.x", Handler: "index.handler", Architectures: ["arm64"] });
    }
    api.resourceCountIs("AWS::Lambda::Function", 3);
    for (const name of ["api", "scheduled", "provision"]) {
      const bundle = readFileSync(path.join(assetOf(name), "index.mjs"), "utf8");
      expect(bundle).toMatch(/createRequire/);
      expect(bundle).not.toMatch(/from\s*"(better-sqlite3|cpu-features)"|require\("(better-sqlite3|cpu-features)"\)/);
      expect(existsSync(path.join(assetOf(name), "index.mjs.map"))).toBe(true);
    }
    for (const name of ["api", "scheduled"]) {
      expect(existsSync(path.join(assetOf(name), "agentd", "agentd.mjs")), name).toBe(true);
      expect(api.toJSON().Resources[functionID(name)].Properties.Environment.Variables.CIAB_AGENTD_BUNDLE).toBe("/var/task/agentd/agentd.mjs");
    }
  });

  test("the bundles run: Node imports each one and its handler answers a malformed event with a typed error", async () => {
    const answer = async (name: string) => {
      const script = `const { handler } = await import(${JSON.stringify(path.join(assetOf(name), "index.mjs"))}); console.log(JSON.stringify(await handler({ not: "an event" })));`;
      const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000, env: { PATH: process.env.PATH } });
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const [fromAPI, fromProvision] = await Promise.all([answer("api"), answer("provision")]);
    expect(fromAPI.statusCode).toBe(400);
    expect(JSON.parse(fromAPI.body as string)).toMatchObject({ error: { code: "invalid_request" } });
    expect(fromProvision).toMatchObject({ error: { code: "invalid_request" } });
  });

  test("the API runs the DynamoDB store and the fargate runtime of the Agent stack, with secrets by ARN only", () => {
    const variables = api.toJSON().Resources[functionID("api")].Properties.Environment.Variables as Record<string, unknown>;
    expect(variables).toMatchObject({
      CIAB_STORE_DRIVER: "dynamodb",
      CIAB_STORE_REGION: "us-east-1",
      CIAB_STORE_CREATE_TABLE: "false",
      CIAB_RUNTIME: "fargate",
      CIAB_RUNTIME_FARGATE_TASK_DEFINITION: "ciab-prod-agent",
      CIAB_STORE_TABLE: { "Fn::ImportValue": expect.stringMatching("Foundation:ExportsOutputRefTable") },
      CIAB_RUNTIME_FARGATE_CLUSTER: { "Fn::ImportValue": expect.stringMatching("Foundation:ExportsOutputRefCluster") },
      CIAB_RUNTIME_FARGATE_SECURITY_GROUPS: { "Fn::ImportValue": expect.stringMatching("Agent:ExportsOutputFnGetAttAgentTasks") },
      CIAB_ORIGIN_VERIFY_SECRET_ARN: { Ref: expect.stringMatching("OriginVerify") },
      CIAB_DATA_KEY_SECRET_ARN: { Ref: expect.stringMatching("DataKey") },
    });
    // No Lambda reads the provider keys (sessions, and the gateway that would use them, need the long-running server).
    expect(variables.CIAB_PROVIDER_SECRET_ARNS).toBeUndefined();
    expect(JSON.stringify(variables.CIAB_RUNTIME_FARGATE_SUBNETS).match(/ImportValue/g)).toHaveLength(2);
    // Nothing secret in the clear: every value is a name, an ARN or a reference.
    expect(JSON.stringify(variables)).not.toMatch(/sk-|SecretString/);
  });

  test("the scheduled function runs once a minute, one pass at a time, not retried", () => {
    api.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      State: "ENABLED",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [functionID("scheduled"), "Arn"] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
    api.hasResourceProperties("AWS::Lambda::Function", { FunctionName: "ciab-prod-scheduled", ReservedConcurrentExecutions: 1 });
  });

  test("the API has a reserved concurrency, its ceiling: waiting requests cannot take the account's whole limit", () => {
    api.hasResourceProperties("AWS::Lambda::Function", { FunctionName: "ciab-prod-api", ReservedConcurrentExecutions: 100 });
  });

  test("the provisioning function has no URL, no trigger and no resource policy: only the invoke role reaches it", () => {
    const provision = functionID("provision");
    const mentions = (type: string) => Object.values(api.findResources(type)).filter((resource) => JSON.stringify(resource).includes(`"${provision}"`));
    expect(mentions("AWS::Lambda::Url")).toEqual([]);
    expect(mentions("AWS::Lambda::Permission")).toEqual([]);
    expect(mentions("AWS::Events::Rule")).toEqual([]);
    const invokers = allStatements(api).filter(({ statement }) => JSON.stringify(statement.Resource ?? "").includes(`"${provision}"`));
    expect(invokers.map(({ resource }) => resource)).toEqual([expect.stringMatching(/^GitHubInvokeRoleDefaultPolicy/)]);
  });

  test("the execution role reaches the one table and its indexes, the secrets, and agent tasks on the cluster only", () => {
    const role = roleOf(functionID("api"));
    expect(roleOf(functionID("scheduled"))).not.toBe(role);
    expect(api.toJSON().Resources[role].Properties.ManagedPolicyArns).toBeUndefined();
    const statements = policyOf(role);
    const byAction = (action: string) => statements.find((statement) => actionsOf(statement).includes(action))!;
    expect(JSON.stringify(byAction("dynamodb:PutItem").Resource).match(/\/index\/gsi[12]/g)).toHaveLength(2);
    expect(resourcesOf(byAction("secretsmanager:GetSecretValue"))).toHaveLength(2);
    expect(actionsOf(byAction("secretsmanager:GetSecretValue")).sort()).toEqual(["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]);
    for (const action of ["ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks", "ecs:ListTasks", "ecs:TagResource"]) {
      expect(byAction(action).Condition?.ArnEquals?.["ecs:cluster"], action).toEqual({ "Fn::ImportValue": expect.stringMatching(/Foundation:ExportsOutputFnGetAttCluster/) });
    }
    expect(JSON.stringify(byAction("ecs:RunTask").Resource)).toContain(":task-definition/ciab-prod-agent:*");
    expect(JSON.stringify(byAction("ecs:StopTask").Resource)).toContain(":task/ciab-prod-agents/*");
    const passRole = byAction("iam:PassRole");
    expect(resourcesOf(passRole)).toHaveLength(2);
    expect(JSON.stringify(passRole.Resource)).toMatch(/Agent:ExportsOutputFnGetAttTaskRole.*Agent:ExportsOutputFnGetAttAgentExecutionRole/);
    expect(passRole.Condition).toEqual({ StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } });
    const services = new Set(statements.flatMap(actionsOf).map((action) => action.split(":")[0]));
    expect([...services].sort()).toEqual(["dynamodb", "ecs", "iam", "logs", "s3", "secretsmanager"]);
    const provisioning = policyOf(roleOf(functionID("provision"))).flatMap(actionsOf);
    expect(provisioning.every((action) => /^(dynamodb|secretsmanager|logs):/.test(action))).toBe(true);
  });

  test("artifacts live in one private, encrypted, TLS-only bucket that the API and the loops reach object by object", () => {
    api.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })] },
    });
    api.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
    });
    for (const name of ["api", "scheduled"]) {
      const s3 = policyOf(roleOf(functionID(name))).filter((statement) => actionsOf(statement).some((action) => action.startsWith("s3:")));
      expect(s3, name).toHaveLength(1);
      expect(actionsOf(s3[0]!).sort()).toEqual(["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]);
      expect(JSON.stringify(s3[0]!.Resource)).toMatch(/Artifacts.*\/\*/);
    }
    expect(policyOf(roleOf(functionID("provision"))).flatMap(actionsOf).some((action) => action.startsWith("s3:"))).toBe(false);
    api.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: "ciab-prod-api",
      Environment: { Variables: Match.objectLike({ CIAB_ARTIFACTS_BACKEND: "s3", CIAB_ARTIFACTS_S3_BUCKET: Match.anyValue() }) },
    });
  });

  // Code run by a Lambda (a dependency gone bad, an injection) gets what its role reads: each reads only the
  // secrets its handler opens.
  test("each Lambda reads only the secrets its handler opens: the data key, and the origin secret for the API alone; no provider key", () => {
    const secretsOf = (name: string) =>
      policyOf(roleOf(functionID(name)))
        .filter((statement) => actionsOf(statement).some((action) => action.startsWith("secretsmanager:")))
        .flatMap(resourcesOf)
        .map((resource) => JSON.stringify(resource));
    expect(secretsOf("api")).toEqual([expect.stringMatching(/DataKey/), expect.stringMatching(/OriginVerify/)]);
    expect(secretsOf("scheduled")).toEqual([expect.stringMatching(/DataKey/)]);
    expect(secretsOf("provision")).toEqual([expect.stringMatching(/DataKey/)]);
  });
});

describe("CloudFront and WAF in front of the API", () => {
  test("HTTPS only, nothing cached, every method, the function URL as origin with CloudFront's secret header, the web ACL attached", () => {
    api.hasResourceProperties("AWS::Lambda::Url", { AuthType: "NONE", InvokeMode: "BUFFERED", TargetFunctionArn: { "Fn::GetAtt": [functionID("api"), "Arn"] } });
    api.resourceCountIs("AWS::Lambda::Url", 1);
    api.resourceCountIs("AWS::CloudFront::Distribution", 1);
    api.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: "https-only",
          // The managed CachingDisabled policy.
          CachePolicyId: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
          AllowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
          FunctionAssociations: [Match.objectLike({ EventType: "viewer-request" })],
        }),
        WebACLId: { "Fn::ImportValue": Match.stringLikeRegexp("Edge:ExportsOutputFnGetAttApiWebACLArn") },
        Origins: [
          Match.objectLike({
            CustomOriginConfig: Match.objectLike({ OriginProtocolPolicy: "https-only", OriginSSLProtocols: ["TLSv1.2"] }),
            OriginCustomHeaders: [{ HeaderName: "x-ciab-origin-verify", HeaderValue: { "Fn::Join": ["", ["{{resolve:secretsmanager:", { Ref: Match.stringLikeRegexp("OriginVerify") }, ":SecretString:::}}"]] } }],
          }),
        ],
      }),
    });
  });

  test("the web ACL is of scope CLOUDFRONT in us-east-1, with AWS's IP reputation, common and known-bad-inputs rule sets, a rate rule and logs", () => {
    expect(synthesized.environment("Ciab-prod-Edge")).toBe("aws://unknown-account/us-east-1");
    expect(synthesized.environment("Ciab-prod-Api")).toBe("aws://unknown-account/us-east-1");
    edge.hasResourceProperties("AWS::WAFv2::WebACL", {
      Scope: "CLOUDFRONT",
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: "AWS", Name: "AWSManagedRulesAmazonIpReputationList" } }, OverrideAction: { None: {} } }),
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: Match.objectLike({ VendorName: "AWS", Name: "AWSManagedRulesCommonRuleSet" }) }, OverrideAction: { None: {} } }),
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: "AWS", Name: "AWSManagedRulesKnownBadInputsRuleSet" } }, OverrideAction: { None: {} } }),
        Match.objectLike({ Action: { Block: {} }, Statement: { RateBasedStatement: { Limit: 2000, EvaluationWindowSec: 300, AggregateKeyType: "IP" } } }),
      ],
    });
    edge.hasResourceProperties("AWS::WAFv2::LoggingConfiguration", { LogDestinationConfigs: [{ "Fn::Join": ["", Match.arrayWith([":log-group:aws-waf-logs-ciab-prod"])] }] });
    edge.hasResourceProperties("AWS::Logs::LogGroup", { LogGroupName: "aws-waf-logs-ciab-prod", RetentionInDays: 14 });
  });
});

describe("GitHub OIDC", () => {
  const subject = "repo:acme/agents:environment:prod";

  test("one provider for token.actions.githubusercontent.com; the deploy and invoke roles trust exactly the repository's environment", () => {
    api.hasResourceProperties("AWS::IAM::OIDCProvider", { Url: "https://token.actions.githubusercontent.com", ClientIdList: ["sts.amazonaws.com"] });
    for (const name of ["deploy", "invoke"]) {
      const role = api.toJSON().Resources[logicalID(api, "AWS::IAM::Role", { RoleName: `ciab-prod-github-${name}` })].Properties;
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: "sts:AssumeRoleWithWebIdentity",
          Effect: "Allow",
          Principal: { Federated: { Ref: expect.stringMatching(/^GitHubProvider/) } },
          Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": subject } },
        },
      ]);
    }
  });

  test("the deploy role may only assume the CDK bootstrap roles; the invoke role may only invoke the API and provisioning functions", () => {
    const deploy = policyOf(logicalID(api, "AWS::IAM::Role", { RoleName: "ciab-prod-github-deploy" }));
    expect(deploy.flatMap(actionsOf).sort()).toEqual(["sts:AssumeRole", "sts:TagSession"]);
    const deployTargets = deploy.flatMap(resourcesOf).map((resource) => JSON.stringify(resource));
    expect(deployTargets).toHaveLength(4);
    for (const target of deployTargets) expect(target).toMatch(/:role\/cdk-hnb659fds-(deploy|file-publishing|image-publishing|lookup)-role-.*-us-east-1"/);
    const invoke = policyOf(logicalID(api, "AWS::IAM::Role", { RoleName: "ciab-prod-github-invoke" }));
    expect(invoke).toEqual([{ Action: "lambda:InvokeFunction", Effect: "Allow", Resource: [{ "Fn::GetAtt": [functionID("api"), "Arn"] }, { "Fn::GetAtt": [functionID("provision"), "Arn"] }] }]);
  });
});

describe("IAM across the app", () => {
  // Services that grant these actions on no narrower resource than "*".
  const unscopable = new Set([
    "ecr:GetAuthorizationToken",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTasks",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
  ]);

  test("no statement in any template has * (or service:*) as its action, or NotAction", () => {
    expect(allStatements(api).length).toBeGreaterThan(10);
    for (const [stack, template] of Object.entries(templates)) {
      for (const { resource, statement } of allStatements(template)) {
        expect(statement.NotAction, `${stack}/${resource}`).toBeUndefined();
        // A Deny takes away: the artifact bucket's denial of every action over plain HTTP grants nothing.
        if (statement.Effect === "Deny") continue;
        expect(actionsOf(statement).filter((action) => action === "*" || action.endsWith(":*")), `${stack}/${resource}`).toEqual([]);
      }
    }
  });

  test("a statement on every resource (*) holds only actions whose service has no resource-level permissions", () => {
    for (const [stack, template] of Object.entries(templates)) {
      for (const { resource, statement } of allStatements(template)) {
        if (statement.Principal !== undefined || !resourcesOf(statement).includes("*")) continue;
        for (const action of actionsOf(statement)) expect(unscopable.has(action), `${stack}/${resource}: ${action} on *`).toBe(true);
      }
    }
  });
});

describe("settings", () => {
  test("another region: the web ACL's ARN crosses from us-east-1 through CDK's cross-region references; a custom domain requires TLS 1.2", () => {
    const other = buildApp(
      new App({
        context: {
          environment: "eu",
          region: "eu-west-1",
          apiDomainName: "ciab.example.com",
          apiReservedConcurrency: 40,
          apiCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
          githubOidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
          // Bundling is covered above; the Lambdas' code does not change with the region.
          "aws:cdk:bundling-stacks": [],
        },
      }),
    );
    const assembly = other.app.synth();
    expect([other.foundation.region, other.api.region, other.edge.region]).toEqual(["eu-west-1", "eu-west-1", "us-east-1"]);
    const template = Template.fromStack(other.api);
    template.resourceCountIs("Custom::CrossRegionExportReader", 1);
    template.resourceCountIs("AWS::IAM::OIDCProvider", 0);
    template.hasResourceProperties("AWS::Lambda::Function", { FunctionName: "ciab-eu-api", ReservedConcurrentExecutions: 40 });
    template.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({ Aliases: ["ciab.example.com"], ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: "TLSv1.2_2021", SslSupportMethod: "sni-only" }) }),
    });
    const deploy = JSON.stringify(allStatements(template).filter(({ resource }) => resource.startsWith("GitHubDeployRoleDefaultPolicy")));
    expect(deploy).toContain("-eu-west-1");
    expect(deploy).toContain("-us-east-1");
    // CDK's cross-region reader and writer bring roles of their own: no wildcard action in them either.
    for (const stack of [other.api, other.edge]) {
      for (const { statement } of allStatements(Template.fromStack(stack))) {
        if (statement.Effect !== "Deny") expect(actionsOf(statement).filter((action) => action === "*" || action.endsWith(":*"))).toEqual([]);
      }
    }
    rmSync(assembly.directory, { recursive: true, force: true });
  }, 120_000);

  test("bad settings are refused before anything is built", () => {
    const read = (context: Record<string, unknown>) => () => readDeploymentSettings((key) => context[key]);
    expect(read({ region: "mars-1" })).toThrow(/region/);
    expect(read({ apiRateLimit: 5 })).toThrow(/apiRateLimit/);
    for (const apiReservedConcurrency of [0, -1, 2.5, "many"]) expect(read({ apiReservedConcurrency })).toThrow(/apiReservedConcurrency/);
    expect(read({ apiDomainName: "ciab.example.com" })).toThrow(/go together/);
    expect(read({ apiDomainName: "ciab.example.com", apiCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" })).toThrow(/us-east-1/);
    expect(read({ githubOidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/example.com" })).toThrow(/githubOidcProviderArn/);
    expect(read({ githubRepository: "acme/agents:environment:*" })).toThrow(/githubRepository/);
  });
});
