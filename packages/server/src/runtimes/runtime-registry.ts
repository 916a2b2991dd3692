import { CiabError, type RuntimeName } from "@ciab/protocol";
import type { Config } from "../config/config-schema.js";
import type { Logger } from "../logger.js";
import type { Runtime, RuntimeDependencies } from "./runtime.js";
import { createLocalRuntime } from "./local/index.js";
import { createDockerRuntime } from "./docker/index.js";
import { createEC2Runtime } from "./ec2/index.js";
import { createFargateRuntime } from "./fargate/index.js";
import { instrumentRuntime } from "./instrumented-runtime.js";

/** Backends by name. */
const factories: Partial<Record<RuntimeName, (config: Config["runtime"], dependencies: RuntimeDependencies) => Runtime>> = {
  local: (config, dependencies) => createLocalRuntime(config.local, dependencies),
  docker: (config, dependencies) => createDockerRuntime(config.docker, dependencies),
  ec2: (config, dependencies) => createEC2Runtime(config.ec2, dependencies),
  fargate: (config, dependencies) => createFargateRuntime(config.fargate, dependencies),
};

export interface RuntimeRegistry {
  readonly defaultName: RuntimeName;
  /** Enabled runtimes only; unknown or disabled names throw `invalid_request`. */
  get(name: RuntimeName): Runtime;
  all(): Runtime[];
  close(): Promise<void>;
}

export function createRuntimeRegistry(
  config: Config["runtime"],
  dependencies: RuntimeDependencies,
  logger: Logger,
): RuntimeRegistry {
  const runtimes = new Map<RuntimeName, Runtime>();
  for (const name of config.enabled) {
    const factory = factories[name];
    if (!factory) {
      throw new CiabError("invalid_request", `runtime ${name} is not available in this build (runtime.enabled)`);
    }
    runtimes.set(name, instrumentRuntime(factory(config, dependencies), logger.child({ runtime: name })));
  }
  if (!runtimes.has(config.backend)) {
    throw new CiabError(
      "invalid_request",
      `runtime.backend is ${config.backend} but runtime.enabled lists only ${[...runtimes.keys()].join(", ")}`,
    );
  }
  return {
    defaultName: config.backend,
    get(name) {
      const runtime = runtimes.get(name);
      if (!runtime) {
        const enabled = [...runtimes.keys()].join(", ");
        throw new CiabError("invalid_request", `runtime ${name} is not enabled on this server (enabled: ${enabled})`);
      }
      return runtime;
    },
    all: () => [...runtimes.values()],
    async close() {
      await Promise.allSettled([...runtimes.values()].map((runtime) => runtime.close()));
    },
  };
}
