/**
 * The agent-channel half of @ciab/protocol. agentd imports these files directly rather than the package
 * index, because the index also carries the public API's zod schemas, which would put zod into the
 * bundle that every sandbox loads (~700 KB more, and slower start).
 */
export * from "../../protocol/src/errors.js";
export * from "../../protocol/src/agent/exec.js";
export * from "../../protocol/src/agent/processes.js";
export * from "../../protocol/src/agent/files.js";
export * from "../../protocol/src/agent/ports.js";
export * from "../../protocol/src/agent/routes.js";
export * from "../../protocol/src/agent/whole-writes.js";
export * from "../../protocol/src/agent/socket-splice.js";
