import { z } from "zod";
import { publishArtifactSchema } from "./artifacts.js";
import { execRequestSchema, sandboxPathSchema, writeFileSchema } from "./sandboxes.js";
import { plainString } from "./strings.js";

/**
 * The sandbox tools by name (seed 003): one argument schema each, shared by
 * `POST /sessions/{sid}/tools/{name}` and the MCP server, which adds `session_id` to each.
 */
export const toolArgumentSchemas = {
  list_files: z.strictObject({
    path: sandboxPathSchema.default("/workspace"),
    depth: z.number().int().min(1).max(10).default(1),
  }),
  read_file: z.strictObject({ path: sandboxPathSchema }),
  write_file: writeFileSchema,
  shell: z.strictObject({
    cmd: plainString().min(1).max(1_000_000),
    cwd: execRequestSchema.shape.cwd,
    env: execRequestSchema.shape.env,
    timeout_secs: z.number().int().min(1).max(24 * 3600).default(60),
  }),
  shell_stream: z.strictObject({
    cmd: plainString().min(1).max(1_000_000),
    cwd: execRequestSchema.shape.cwd,
    env: execRequestSchema.shape.env,
  }),
  publish_artifact: z.strictObject({
    path: publishArtifactSchema.shape.path,
    mime: publishArtifactSchema.shape.mime,
    description: publishArtifactSchema.shape.description,
  }),
} as const;

export type ToolName = keyof typeof toolArgumentSchemas;
export const toolNames = Object.keys(toolArgumentSchemas) as ToolName[];
export type ToolArguments<N extends ToolName> = z.infer<(typeof toolArgumentSchemas)[N]>;

export const toolNameSchema = z.enum(toolNames as [ToolName, ...ToolName[]]);

export const shellToolResultSchema = z.object({
  stdout: z.string(),
  stderr: z.string(),
  /** null when the command was killed (timeout or signal). */
  exit_code: z.number().int().nullable(),
  timed_out: z.boolean(),
  truncated: z.boolean(),
  duration_ms: z.number(),
});
export type ShellToolResult = z.infer<typeof shellToolResultSchema>;

export const shellStreamToolResultSchema = z.object({
  stream_id: z.string(),
  pid: z.number().int(),
  sandbox_id: z.string(),
  /** Tail with server-sent events (bearer token), from any byte offset. */
  tail_url: z.string(),
});

export const approvalIDSchema = z.string().regex(/^apr_[0-9a-z]{26}$/, "an approval id (apr_…)");
export const approvalStateSchema = z.enum(["pending", "approved", "denied", "expired"]);
export type ApprovalState = z.infer<typeof approvalStateSchema>;

export const approvalSchema = z.object({
  id: z.string(),
  state: approvalStateSchema,
  tool: z.string(),
  session_id: z.string(),
  sandbox_id: z.string(),
  requested_by: z.string(),
  /** What the call would do, without contents: path, mode, bytes and sha256 of the content. */
  summary: z.record(z.string(), z.unknown()),
  args_digest: z.string(),
  /** Why a policy rule held the call. */
  reason: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  decided_by: z.string().nullable(),
  decided_at: z.string().nullable(),
  /** The deciding admin's note to the agent, as they wrote it; a denied call's error message ends with it. */
  decision_note: z.string().nullable(),
  /** Set once an approved call ran: its result, or the error it failed with. */
  outcome: z
    .object({
      status: z.enum(["succeeded", "failed"]),
      result: z.unknown().optional(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    })
    .nullable(),
});
export type Approval = z.infer<typeof approvalSchema>;

export const approvalPendingSchema = z.object({
  approval: z.object({ id: z.string(), state: approvalStateSchema, expires_at: z.string() }),
});

export const approvalListQuerySchema = z.object({
  state: approvalStateSchema.optional(),
  session_id: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: z.string().min(1).max(64).optional(),
});

export const decideApprovalSchema = z.strictObject({ note: z.string().max(1024).optional() });

export const auditEntrySchema = z.object({
  id: z.string(),
  /** `write_file`, `exec.run`, `files.read`, `snapshots.create`, `preview.url.signed`, `approval.approve`… */
  tool: z.string(),
  actor: z.string(),
  sandbox_id: z.string().nullable(),
  session_id: z.string().nullable(),
  /** sha256 of the canonical JSON of the arguments, with contents and secrets reduced to sizes and hashes. */
  args_digest: z.string(),
  result: z.enum(["ok", "error", "approval_pending"]),
  error_code: z.string().nullable(),
  approval_id: z.string().nullable(),
  duration_ms: z.number(),
  created_at: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

const timestamp = z.iso.datetime({ offset: true });

export const auditQuerySchema = z.object({
  sandbox_id: z.string().min(1).max(64).optional(),
  session_id: z.string().min(1).max(64).optional(),
  actor: z.string().min(1).max(64).optional(),
  tool: z.string().min(1).max(64).optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
  /** The `next` of the previous page. */
  cursor: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export const auditPageSchema = z.object({ entries: z.array(auditEntrySchema), next: z.string().nullable() });
