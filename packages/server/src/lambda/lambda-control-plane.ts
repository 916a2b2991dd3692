import path from "node:path";
import { CiabError } from "@ciab/protocol";
import { loadConfig } from "../config/load-config.js";
import type { Config } from "../config/config-schema.js";
import { createControlPlane, type ControlPlane } from "../control-plane.js";
import { createDataKey } from "../data-key.js";
import { createLogger, type Logger } from "../logger.js";
import { createStore } from "../store/create-store.js";
import { createSecretReader, lambdaDataKey, type SecretReader } from "./lambda-secrets.js";

/** Runtimes whose machines live on the control plane's own host: a Lambda has none to give them. */
const hostRuntimes = new Set(["local", "docker"]);

/**
 * No Lambda invocation outlives 15 minutes, so a sandbox row left `provisioning` for longer has no container
 * still starting it: the reconciler may then finish or fail it.
 */
const lambdaMaxDurationMs = 15 * 60_000;

/** Config from CIAB_* variables, with the data and tools dirs in /tmp: the only place a Lambda may write. */
export function loadLambdaConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  const dataDirectory = env.CIAB_SERVER_DATA_DIR ?? env.CIAB_DATA_DIR ?? "/tmp/ciab";
  return loadConfig({ env: { CIAB_RUNTIME_TOOLS_DIR: path.join(dataDirectory, "tools"), ...env, CIAB_SERVER_DATA_DIR: dataDirectory } });
}

export interface LambdaControlPlaneOptions {
  env: NodeJS.ProcessEnv;
  /** Defaults to a pino logger at the configured level. */
  logger?: Logger;
  secrets?: SecretReader;
}

/**
 * The control plane of one Lambda container, built at its cold start from CIAB_* variables. The data key
 * comes from Secrets Manager (or CIAB_DATA_KEY): every container has its own /tmp, so a key file made there
 * would seal secrets no other container can open.
 */
export async function openLambdaControlPlane(options: LambdaControlPlaneOptions): Promise<{ plane: ControlPlane; logger: Logger }> {
  const { env } = options;
  const config = loadLambdaConfig(env);
  const hosted = config.runtime.enabled.filter((name) => hostRuntimes.has(name));
  if (hosted.length > 0) {
    throw new CiabError(
      "invalid_request",
      `runtime.enabled lists ${hosted.join(", ")}, which run machines on the control plane's host; on AWS Lambda enable only ec2 or fargate (CIAB_RUNTIME_ENABLED)`,
    );
  }
  if (config.artifacts.backend !== "s3") {
    throw new CiabError(
      "invalid_request",
      "[artifacts] backend is local, but every Lambda container has its own /tmp: an artifact stored by one would be missing in the others; set CIAB_ARTIFACTS_BACKEND=s3 and CIAB_ARTIFACTS_S3_BUCKET",
    );
  }
  const dataKey = await lambdaDataKey(env, options.secrets ?? createSecretReader(env));
  const logger = options.logger ?? createLogger(config.server.log_level);
  const dataDirectory = path.resolve(config.server.data_dir);
  const store = await createStore(config.store, dataDirectory, env);
  await store.migrate();
  const agentdBundlePath = env.CIAB_AGENTD_BUNDLE ?? (await (await import("../agentd-bundle.js")).ensureAgentdBundle());
  const plane = await createControlPlane({ config, dataDirectory, store, dataKey: createDataKey(dataKey), agentdBundlePath, env, logger, startingGraceMs: lambdaMaxDurationMs });
  return { plane, logger };
}
