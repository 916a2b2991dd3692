import { fileURLToPath } from "node:url";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";

/** The repository's root: esbuild bundles from it with the repository's own lock file and node_modules. */
export const repositoryRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The Node.js runtime of the control plane's Lambdas. */
export const lambdaRuntime = lambda.Runtime.NODEJS_24_X;

/** The entry file of each control plane Lambda (packages/server/src/lambda/). */
export const lambdaEntries = {
  api: "packages/server/src/lambda/api-handler.ts",
  scheduled: "packages/server/src/lambda/scheduled-handler.ts",
  provision: "packages/server/src/lambda/provision-handler.ts",
} as const;

const unavailableNativeModule = "./infra/lambda/native-module-unavailable.cjs";

/** Where a Lambda finds the agentd bundle shipped beside its code (`CIAB_AGENTD_BUNDLE`). */
export const agentdBundleInLambda = "/var/task/agentd/agentd.mjs";

/**
 * esbuild on this machine, never in Docker, so synthesis works offline in CI. The AWS SDK is bundled (the
 * versions the tests ran, not the runtime's); native addons cannot be bundled and are replaced by a module
 * that throws when used: the Lambda runs the DynamoDB store, and ssh2 works without cpu-features.
 */
export function controlPlaneBundling(options: { withAgentd: boolean }): nodejs.BundlingOptions {
  return {
    forceDockerBundling: false,
    format: nodejs.OutputFormat.ESM,
    target: "node24",
    minify: true,
    sourceMap: true,
    externalModules: [],
    // Bundled CommonJS dependencies call require() and read __dirname; an ES module has neither until it makes them.
    banner: [
      "import { createRequire as ciabCreateRequire } from 'node:module';",
      "import { fileURLToPath as ciabFileURLToPath } from 'node:url';",
      "const require = ciabCreateRequire(import.meta.url);",
      "const __filename = ciabFileURLToPath(import.meta.url);",
      "const __dirname = ciabFileURLToPath(new URL('.', import.meta.url));",
    ].join(" "),
    esbuildArgs: { "--alias": [`better-sqlite3=${unavailableNativeModule}`, `cpu-features=${unavailableNativeModule}`] },
    // A control plane hands machines the agentd bundle; a Lambda cannot build it (no esbuild binary there), so
    // the repository's own bundle script makes it here and it ships beside the code.
    ...(options.withAgentd ? { commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling: shipAgentd } } : {}),
  };
}

function shipAgentd(inputDirectory: string, outputDirectory: string): string[] {
  const dist = `${inputDirectory}/packages/agentd/dist`;
  return [
    `node --input-type=module -e "await (await import('${inputDirectory}/packages/agentd/scripts/bundle.mjs')).bundleAgentd()"`,
    `mkdir -p "${outputDirectory}/agentd"`,
    `cp "${dist}/agentd.mjs" "${dist}/ciab-artifact" "${dist}/ciab-path.sh" "${outputDirectory}/agentd/"`,
  ];
}
