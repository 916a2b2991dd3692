export { Ciab, type CiabOptions } from "./ciab.js";
export {
  resolveConnection,
  resolveDataDirectory,
  defaultDataDirectory,
  noServerMessage,
  type Connection,
  type ResolveConnectionOptions,
} from "./connection.js";
export { userConfigPath, readUserConfig, writeUserConfig, removeUserConfig, type UserConfig } from "./user-config.js";
export * from "./errors.js";
export type { ExecEvent } from "./exec-events.js";
export { parseServerSentEvents, type ServerSentEvent } from "./sse.js";
export { Sandboxes, type CreateSandboxOptions, type ListSandboxesOptions } from "./sandboxes.js";
export { Sessions, type FollowEventsOptions } from "./sessions.js";
export { Secrets, type SecretInfo } from "./secrets.js";
export { Usage, type UsageReportOptions } from "./usage.js";
export { Artifacts, type ListArtifactsOptions } from "./artifacts.js";
export { Snapshots } from "./snapshots.js";
export { Tokens } from "./tokens.js";
export { Workspaces, type UserWithToken } from "./workspaces.js";
export { Approvals } from "./approvals.js";
export { Audit, type AuditListOptions } from "./audit.js";
export { SessionTools, type ToolCallAnswer, type ToolCallOptions } from "./tools.js";
export { Volumes } from "./volumes.js";
export { Images, type Image, type ImageBuild, type ImageBuildRequest, type ImageBuildState } from "./images.js";
export { SandboxHandle, type WaitUntilReadyOptions } from "./sandbox-handle.js";
export { SandboxCommands, type Command, type RunCommandOptions } from "./sandbox-commands.js";
export { SandboxProcesses, type ProcessSignal, type StartProcessOptions } from "./sandbox-processes.js";
export { SandboxShell, type ShellStreamEvent, type ShellStreamOptions, type TailOptions } from "./sandbox-shell.js";
export { ProcessAttachment, type AttachOptions, type ProcessExit } from "./process-attachment.js";
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
  CreateSessionRequest,
  Session,
  SessionEvent,
  SessionEndReason,
  UsageGroupKey,
  UsageReport,
  BudgetStatus,
  UsageRow,
  Artifact,
  PublishArtifactRequest,
  Snapshot,
  CreateTokenRequest,
  CreatedToken,
  Token,
  Role,
  User,
  Workspace,
  WhoAmI,
  Approval,
  AuditEntry,
  ToolName,
  Persistence,
  Volume,
} from "@ciab/protocol";
