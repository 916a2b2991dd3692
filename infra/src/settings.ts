/** What one deployment of ciab is: an environment name and the GitHub repository allowed to deploy it. */
export interface DeploymentSettings {
  /** `prod`, `staging`…: part of every name, and the GitHub environment the OIDC trust is pinned to. */
  environment: string;
  /** `org/repo` whose workflows may deploy and invoke (GitHub OIDC). */
  githubRepository: string;
  /** The agent image's tag in the ECR repository. */
  agentImageTag: string;
}

const environmentPattern = /^[a-z][a-z0-9-]{0,19}$/;
const repositoryPattern = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Reads and checks the settings from CDK context (`-c environment=prod -c githubRepository=org/repo`). */
export function readDeploymentSettings(context: (key: string) => unknown): DeploymentSettings {
  const environment = String(context("environment") ?? "dev");
  const githubRepository = String(context("githubRepository") ?? "example-org/ciab");
  const agentImageTag = String(context("agentImageTag") ?? "latest");
  if (!environmentPattern.test(environment)) throw new Error(`environment ${environment} must match ${environmentPattern}`);
  if (!repositoryPattern.test(githubRepository)) throw new Error(`githubRepository ${githubRepository} must be org/repo`);
  return { environment, githubRepository, agentImageTag };
}
