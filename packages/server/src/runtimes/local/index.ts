export { createLocalRuntime, LocalRuntime } from "./local-runtime.js";
export { bwrapArguments, etcAllowList, inspectHostLayout, type HostLayout } from "./bwrap-arguments.js";
