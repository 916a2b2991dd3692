export { createFargateRuntime, FargateRuntime } from "./fargate-runtime.js";
export { fargateRuntimeSchema, type FargateRuntimeConfig } from "./fargate-runtime-config.js";
