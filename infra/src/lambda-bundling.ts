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

/**
 * esbuild on this machine, never in Docker, so synthesis works offline in CI. The AWS SDK is bundled (the
 * versions the tests ran, not the runtime's); native addons cannot be bundled and are replaced by a module
 * that throws when used: the Lambda runs the DynamoDB store, and ssh2 works without cpu-features.
 */
export function controlPlaneBundling(): nodejs.BundlingOptions {
  return {
    forceDockerBundling: false,
    format: nodejs.OutputFormat.ESM,
    target: "node24",
    minify: true,
    sourceMap: true,
    externalModules: [],
    // Bundled CommonJS dependencies call require(); an ES module has none until it makes one.
    banner: "import { createRequire as ciabCreateRequire } from 'node:module'; const require = ciabCreateRequire(import.meta.url);",
    esbuildArgs: { "--alias": [`better-sqlite3=${unavailableNativeModule}`, `cpu-features=${unavailableNativeModule}`] },
  };
}
