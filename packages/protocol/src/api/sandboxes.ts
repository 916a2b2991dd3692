import { z } from "zod";
import { fileModeSchema, plainString } from "./strings.js";

/**
 * Public API shapes for sandboxes, exec, files and ports. Written once here: the server validates with
 * them and builds its OpenAPI document from them; the SDK takes its types from them.
 */
export const runtimeNames = ["local", "docker", "ec2", "fargate"] as const;
export type RuntimeName = (typeof runtimeNames)[number];

/**
 * What happens to a sandbox's /workspace when it ends (docs/decisions/0025-persistence-modes.md):
 * `ephemeral` wipes it; `snapshot-on-idle` snapshots it first (the idle reaper, max runtime, a session's end);
 * `persistent-volume` mounts the user's volume there, which outlives the sandbox.
 */
export const persistenceModes = ["ephemeral", "snapshot-on-idle", "persistent-volume"] as const;
export type Persistence = (typeof persistenceModes)[number];
export const persistenceSchema = z.enum(persistenceModes);

export const sandboxStates = [
  "pending",
  "provisioning",
  "ready",
  "paused",
  "terminating",
  "terminated",
  "failed",
] as const;
export type SandboxState = (typeof sandboxStates)[number];

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name");
const envMap = z.record(envName, plainString().max(32_768)).refine((env) => Object.keys(env).length <= 256, {
  message: "at most 256 variables",
});
const tagMap = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .refine((tags) => Object.keys(tags).length <= 50, { message: "at most 50 tags" });

export const resourcesSchema = z.strictObject({
  cpus: z.number().positive().max(256).optional(),
  memory_mb: z.number().int().min(16).max(1_048_576).optional(),
  pids: z.number().int().min(8).max(1_000_000).optional(),
});
export type Resources = z.infer<typeof resourcesSchema>;

/** A lifetime in seconds; the server caps it at `[sandboxes] max_timeout_seconds`. */
const timeoutSeconds = z.number().int().min(1).max(366 * 24 * 3600);

/** `POST /sandboxes/{id}/timeout`: the sandbox now lives `timeout_secs` from now. */
export const setSandboxTimeoutSchema = z.strictObject({ timeout_secs: timeoutSeconds });
export type SetSandboxTimeoutRequest = z.infer<typeof setSandboxTimeoutSchema>;

export const createSandboxSchema = z.strictObject({
  runtime: z.enum(runtimeNames).optional(),
  image: z.string().min(1).max(512).optional(),
  name: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "lower-case letters, digits and dashes, at most 63")
    .optional(),
  env: envMap.optional(),
  resources: resourcesSchema.optional(),
  tags: tagMap.optional(),
  network: z.enum(["none", "host"]).optional(),
  /** A snapshot (`snap_…`) whose files seed /workspace before the sandbox is ready. */
  restore: z.string().regex(/^snap_[0-9a-z]{26}$/, "a snapshot id (snap_…)").optional(),
  /** Seconds the sandbox lives once ready (and after each resume); the server's default without it. */
  timeout_secs: timeoutSeconds.optional(),
  /** What its timeout does; the server's `[sandboxes] on_timeout` without it. */
  on_timeout: z.enum(["pause", "delete"]).optional(),
  /** The workspace's default (`[runtime] persistence`) when absent. */
  persistence: persistenceSchema.optional(),
  /** With `persistent-volume`: this volume of the caller's rather than their first one on the runtime. */
  volume: z.string().regex(/^vol_[0-9a-z]{26}$/, "a volume id (vol_…)").optional(),
  /**
   * With `persistent-volume`, on runtimes that size volumes (ec2): the size of a volume made now, up to the
   * workspace's maximum; a volume that exists keeps its size (the answer's `notes` says so).
   */
  volume_size_gib: z.number().int().min(1).max(16_384).optional(),
});
export type CreateSandboxRequest = z.infer<typeof createSandboxSchema>;

export const sandboxSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(sandboxStates),
  runtime: z.enum(runtimeNames),
  image: z.string(),
  network: z.enum(["none", "host"]),
  tags: z.record(z.string(), z.string()),
  /** Names only: values may be secrets. */
  env_keys: z.array(z.string()),
  resources: resourcesSchema,
  /**
   * What went wrong, in the backend's own words, when state is `failed`; `aws_code` keeps the cloud's own
   * error code (`InvalidAMIID.NotFound`) when a cloud call failed.
   */
  failure: z.object({ reason: z.string(), message: z.string(), aws_code: z.string().optional() }).nullable(),
  /** What the control plane is doing right now during provisioning (for progress displays). */
  status_message: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  ready_at: z.string().nullable(),
  /** Compute cost so far in USD, from the machine's price and the time it held a machine. */
  cost_usd: z.number(),
  /** Why the sandbox went away when the budget or its timeout ended it (`max_runtime`, `timeout`, `retention`); null otherwise. */
  end_reason: z.string().nullable(),
  /** Seconds it lives from ready and from each resume. */
  timeout_secs: z.number().int(),
  on_timeout: z.enum(["pause", "delete"]),
  /**
   * When a ready sandbox times out; null until it is first ready. A live session in it moves the deadline on
   * (the session's own limits rule), so the sandbox gets its whole timeout after the session ends.
   */
  expires_at: z.string().nullable(),
  /** When a paused sandbox is deleted; null unless paused. */
  delete_after: z.string().nullable(),
  persistence: persistenceSchema,
  /** The volume mounted at /workspace (`persistent-volume`). */
  volume_id: z.string().nullable(),
  /** What the server did otherwise than asked (a volume size ignored); in the create answer only. */
  notes: z.array(z.string()).optional(),
  /** The snapshot taken as it ended (`snapshot-on-idle`); restore it with `restore`. */
  final_snapshot_id: z.string().nullable(),
});
export type Sandbox = z.infer<typeof sandboxSchema>;

export const sandboxListSchema = z.object({ sandboxes: z.array(sandboxSchema) });

/** What a sandbox's machine printed on its console: text the machine wrote, so shown, never trusted. */
export const consoleOutputSchema = z.object({ output: z.string() });
export type ConsoleOutput = z.infer<typeof consoleOutputSchema>;

/** The backend's own command for a shell in the machine (fargate: `aws ecs execute-command …`). */
export const shellCommandSchema = z.object({ argv: z.array(z.string()), command: z.string() });
export type ShellCommand = z.infer<typeof shellCommandSchema>;

export const execRequestSchema = z.strictObject({
  command: z.union([plainString().min(1).max(1_000_000), z.array(plainString().max(1_000_000)).min(1).max(10_000)]),
  cwd: plainString().min(1).max(4096).optional(),
  env: envMap.optional(),
  timeout_ms: z.number().int().positive().max(24 * 3600 * 1000).optional(),
  stdin: z.string().max(16 * 1024 * 1024).optional(),
});
export type ExecRequestBody = z.infer<typeof execRequestSchema>;

export const execResultSchema = z.object({
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  timed_out: z.boolean(),
  duration_ms: z.number(),
  truncated: z.boolean(),
});
export type ExecResultBody = z.infer<typeof execResultSchema>;

const terminalSide = z.number().int().positive().max(10_000);

/** A terminal's size in character cells. */
export const terminalSizeSchema = z.strictObject({ cols: terminalSide, rows: terminalSide });
export type TerminalSizeBody = z.infer<typeof terminalSizeSchema>;

export const startProcessSchema = z.strictObject({
  command: execRequestSchema.shape.command,
  cwd: execRequestSchema.shape.cwd,
  env: envMap.optional(),
  tag: z.string().max(256).optional(),
  /** Run on a pseudo-terminal of this size (TERM=xterm-256color unless env sets it); attach to it over WebSocket. */
  pty: terminalSizeSchema.optional(),
  /** Keep the whole stdout on disk in the sandbox, so it can be read again from any byte offset. */
  persist_output: z.boolean().optional(),
});
export type StartProcessBody = z.infer<typeof startProcessSchema>;

/** What an attach WebSocket carries in text messages; binary messages are raw terminal bytes. */
export type AttachControlMessage =
  | ({ type: "resize" } & TerminalSizeBody)
  | { type: "exit"; exit_code: number | null; signal: string | null }
  | { type: "error"; code: string; message: string; status: number };

export const shellStreamRequestSchema = z.strictObject({
  cmd: plainString().min(1).max(1_000_000),
  cwd: execRequestSchema.shape.cwd,
  env: envMap.optional(),
});
export type ShellStreamRequestBody = z.infer<typeof shellStreamRequestSchema>;

export const shellStreamSchema = z.object({
  /** Tail it at GET /sandboxes/{id}/shell/stream/{stream_id}. */
  stream_id: z.string(),
  pid: z.number().int(),
});
export type ShellStreamBody = z.infer<typeof shellStreamSchema>;

export const processSchema = z.object({
  pid: z.number().int(),
  command: z.array(z.string()),
  cwd: z.string(),
  tag: z.string().optional(),
  /** Present for processes on a pseudo-terminal: the terminal's current size. */
  pty: terminalSizeSchema.optional(),
  started_at: z.string(),
  running: z.boolean(),
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
});
export type ProcessBody = z.infer<typeof processSchema>;

export const signalSchema = z.strictObject({
  signal: z.enum(["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGSTOP", "SIGCONT", "SIGUSR1", "SIGUSR2"]),
});

export const fileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(["file", "dir", "symlink", "other"]),
  size: z.number(),
  mode: z.number().int(),
  modified_at: z.string(),
  symlink_target: z.string().optional(),
});
export type FileEntryBody = z.infer<typeof fileEntrySchema>;

export const sandboxPathSchema = plainString().min(1).max(4096);

export const writeFileSchema = z.strictObject({
  path: sandboxPathSchema,
  content: z.string().max(64 * 1024 * 1024),
  encoding: z.enum(["utf8", "base64"]).optional(),
  mode: fileModeSchema.optional(),
});

export const mkdirSchema = z.strictObject({
  path: sandboxPathSchema,
  mode: fileModeSchema.optional(),
  parents: z.boolean().optional(),
});

export const renameSchema = z.strictObject({ from: sandboxPathSchema, to: sandboxPathSchema });

export const readFileSchema = z.object({
  path: z.string(),
  encoding: z.enum(["utf8", "base64"]),
  content: z.string(),
  size: z.number(),
});

export const portSchema = z.object({
  port: z.number().int(),
  address: z.string(),
  family: z.enum(["ipv4", "ipv6"]),
});
