export * from "./errors.js";
export * from "./agent/exec.js";
export * from "./agent/processes.js";
export * from "./agent/files.js";
export * from "./agent/ports.js";
export * from "./agent/routes.js";
export * from "./api/sandboxes.js";
export * from "./events.js";
