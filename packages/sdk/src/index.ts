export { Ciab, type CiabOptions } from "./ciab.js";
export {
  resolveConnection,
  resolveDataDirectory,
  defaultDataDirectory,
  noServerMessage,
  type Connection,
  type ResolveConnectionOptions,
} from "./connection.js";
export * from "./errors.js";
export type { ExecEvent } from "./exec-events.js";
export { parseServerSentEvents, type ServerSentEvent } from "./sse.js";
export { Sandboxes, type CreateSandboxOptions } from "./sandboxes.js";
export { SandboxHandle, type WaitUntilReadyOptions } from "./sandbox-handle.js";
export { SandboxCommands, type Command, type RunCommandOptions } from "./sandbox-commands.js";
export { SandboxProcesses, type ProcessSignal, type StartProcessOptions } from "./sandbox-processes.js";
export { SandboxFiles, type ReadFileBody, type UploadSource } from "./sandbox-files.js";
export type {
  CreateSandboxRequest,
  ExecRequestBody,
  ExecResultBody,
  FileEntryBody,
  ListeningPort,
  ProcessBody,
  Sandbox,
  SandboxState,
} from "@ciab/protocol";
