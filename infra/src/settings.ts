/** What one deployment of ciab is: an environment name and the GitHub repository allowed to deploy it. */
export interface DeploymentSettings {
  /** `prod`, `staging`…: part of every name, and the GitHub environment the OIDC trust is pinned to. */
  environment: string;
  /** `org/repo` whose workflows may deploy and invoke (GitHub OIDC). */
  githubRepository: string;
  /** The agent image's tag in the ECR repository. */
  agentImageTag: string;
  /** The region of the Foundation, Agent and API stacks; the Edge stack (WAF for CloudFront) is always in us-east-1. */
  region: string;
  /** Requests one client address may make in five minutes before the WAF blocks it. */
  apiRateLimit: number;
  /**
   * Concurrent executions reserved for the API Lambda, which is also its ceiling: requests that wait (an
   * approval, a sandbox starting) hold an execution each, and without a ceiling they could take the account's
   * whole regional limit from every other function in it.
   */
  apiReservedConcurrency: number;
  /** An account holds one GitHub OIDC provider: give its ARN when it exists, else the API stack makes it. */
  githubOidcProviderArn?: string;
  /** The API's own name (`ciab.example.com`) and its ACM certificate in us-east-1; without them, the distribution's. */
  apiDomainName?: string;
  apiCertificateArn?: string;
  /** The CDK bootstrap qualifier, whose roles the deploy role may assume. */
  bootstrapQualifier: string;
}

const environmentPattern = /^[a-z][a-z0-9-]{0,19}$/;
const repositoryPattern = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d$/;
const oidcProviderPattern = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/;
const domainPattern = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/;
const certificatePattern = /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/;
const qualifierPattern = /^[a-z0-9]{1,10}$/;

/** Reads and checks the settings from CDK context (`-c environment=prod -c githubRepository=org/repo`). */
export function readDeploymentSettings(context: (key: string) => unknown): DeploymentSettings {
  const environment = String(context("environment") ?? "dev");
  const githubRepository = String(context("githubRepository") ?? "example-org/ciab");
  const agentImageTag = String(context("agentImageTag") ?? "latest");
  const region = String(context("region") ?? "us-east-1");
  const apiRateLimit = Number(context("apiRateLimit") ?? 2000);
  const apiReservedConcurrency = Number(context("apiReservedConcurrency") ?? 100);
  const githubOidcProviderArn = optional(context("githubOidcProviderArn"));
  const apiDomainName = optional(context("apiDomainName"));
  const apiCertificateArn = optional(context("apiCertificateArn"));
  const bootstrapQualifier = String(context("bootstrapQualifier") ?? "hnb659fds");
  if (!environmentPattern.test(environment)) throw new Error(`environment ${environment} must match ${environmentPattern}`);
  if (!repositoryPattern.test(githubRepository)) throw new Error(`githubRepository ${githubRepository} must be org/repo`);
  if (!regionPattern.test(region)) throw new Error(`region ${region} must be an AWS region such as eu-west-1`);
  // WAF's rate-based rules take limits from 10 to 2e9 requests per window.
  if (!Number.isInteger(apiRateLimit) || apiRateLimit < 10 || apiRateLimit > 2_000_000_000) throw new Error(`apiRateLimit ${apiRateLimit} must be an integer from 10 to 2000000000`);
  // Lambda refuses a reservation that leaves less than 100 of the account's limit unreserved (1,000 by default).
  if (!Number.isInteger(apiReservedConcurrency) || apiReservedConcurrency < 1 || apiReservedConcurrency > 100_000) {
    throw new Error(`apiReservedConcurrency ${apiReservedConcurrency} must be an integer from 1 to 100000, and leave 100 of the account's Lambda concurrency unreserved`);
  }
  if (githubOidcProviderArn !== undefined && !oidcProviderPattern.test(githubOidcProviderArn)) {
    throw new Error(`githubOidcProviderArn ${githubOidcProviderArn} must be the ARN of the token.actions.githubusercontent.com provider`);
  }
  if ((apiDomainName === undefined) !== (apiCertificateArn === undefined)) throw new Error("apiDomainName and apiCertificateArn go together");
  if (apiDomainName !== undefined && !domainPattern.test(apiDomainName)) throw new Error(`apiDomainName ${apiDomainName} must be a host name`);
  // CloudFront takes certificates from us-east-1 only.
  if (apiCertificateArn !== undefined && !certificatePattern.test(apiCertificateArn)) throw new Error(`apiCertificateArn ${apiCertificateArn} must be an ACM certificate in us-east-1`);
  if (!qualifierPattern.test(bootstrapQualifier)) throw new Error(`bootstrapQualifier ${bootstrapQualifier} must match ${qualifierPattern}`);
  return { environment, githubRepository, agentImageTag, region, apiRateLimit, apiReservedConcurrency, githubOidcProviderArn, apiDomainName, apiCertificateArn, bootstrapQualifier };
}

function optional(value: unknown): string | undefined {
  return value === undefined || value === null || value === "" ? undefined : String(value);
}
