import { z } from "zod";
import { createSandboxSchema, persistenceSchema, runtimeNames } from "./sandboxes.js";
import { plainString } from "./strings.js";

export const sessionStates = ["pending", "starting", "running", "idle", "completed", "failed", "cancelled"] as const;
export type SessionState = (typeof sessionStates)[number];
export const finalSessionStates: readonly SessionState[] = ["completed", "failed", "cancelled"];

/**
 * `agent_exit`: the agent exited by itself (any code); `cancelled`: someone cancelled it; `idle_timeout` and
 * `max_runtime`: the budget ended it; `error`: it failed for another reason (`failure.reason` says which).
 */
export const sessionEndReasons = ["agent_exit", "cancelled", "idle_timeout", "max_runtime", "error"] as const;
export type SessionEndReason = (typeof sessionEndReasons)[number];

export const providerNameSchema = z.enum(["claude-code", "codex", "pi", "gemini-cli", "opencode", "shell"]);

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name");

export const repoSchema = z.strictObject({
  /** Any URL or path git can clone from the control plane's host (https, ssh, file). */
  url: plainString().min(1).max(2048),
  /** Branch, tag or commit; the repository's default branch when absent. */
  ref: plainString().min(1).max(256).optional(),
});

export const createSessionSchema = z
  .strictObject({
    provider: providerNameSchema,
    /** Headless when given: the agent runs it and exits. Interactive (a TUI in a PTY) when absent. */
    prompt: plainString().min(1).max(1_000_000).optional(),
    repo: repoSchema.optional(),
    env: z.record(envName, plainString().max(32_768)).optional(),
    model: plainString().min(1).max(256).optional(),
    /** Run in this existing sandbox; otherwise the session gets a sandbox of its own. */
    sandbox_id: z.string().min(1).max(64).optional(),
    runtime: z.enum(runtimeNames).optional(),
    image: createSandboxSchema.shape.image,
    resources: createSandboxSchema.shape.resources,
    network: createSandboxSchema.shape.network,
    /** Seed the session's own sandbox from this snapshot before the agent starts. */
    restore: createSandboxSchema.shape.restore,
    /** What happens to the work dir of the session's own sandbox as it ends; the workspace's default when absent. */
    persistence: createSandboxSchema.shape.persistence,
    /** With `persistent-volume`: mount this volume of the caller's. */
    volume: createSandboxSchema.shape.volume,
    /** With `persistent-volume` on ec2: the size of the volume if it is made now. */
    volume_size_gib: createSandboxSchema.shape.volume_size_gib,
    /** Keep the session's own sandbox after the session ends (it is destroyed otherwise). */
    keep_sandbox: z.boolean().optional(),
  })
  .refine(
    (value) =>
      !(value.sandbox_id && (value.runtime || value.image || value.resources || value.network || value.restore || value.persistence || value.volume || value.volume_size_gib)),
    {
      message: "give either sandbox_id or settings of a new sandbox (runtime, image, resources, network, restore, persistence, volume, volume_size_gib), not both",
      path: ["sandbox_id"],
    },
  );
export type CreateSessionRequest = z.infer<typeof createSessionSchema>;

export const sessionSchema = z.object({
  id: z.string(),
  provider: providerNameSchema,
  mode: z.enum(["headless", "interactive"]),
  state: z.enum(sessionStates),
  sandbox_id: z.string().nullable(),
  owns_sandbox: z.boolean(),
  prompt: z.string().nullable(),
  model: z.string().nullable(),
  repo: repoSchema.nullable(),
  env_keys: z.array(z.string()),
  exit_code: z.number().int().nullable(),
  failure: z.object({ reason: z.string(), message: z.string() }).nullable(),
  /** The agent's process inside the sandbox (attach to it, or find it in `processes`). */
  process_pid: z.number().int().nullable(),
  /** Model calls metered by the gateway; `cost_usd` here is what the model provider charges. */
  usage: z.object({ input_tokens: z.number(), output_tokens: z.number(), cost_usd: z.number() }),
  /** Compute cost of the session's run time in USD (its sandbox's price per hour). */
  cost_usd: z.number(),
  /** How a finished session ended; null while it lives. */
  end_reason: z.enum(sessionEndReasons).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  persistence: persistenceSchema,
  /** What the server did otherwise than asked (a volume size ignored); in the create answer only. */
  notes: z.array(z.string()).optional(),
  /** The snapshot taken as its sandbox ended (`snapshot-on-idle`). */
  final_snapshot_id: z.string().nullable(),
});
export type Session = z.infer<typeof sessionSchema>;

export const sessionEventSchema = z.object({
  seq: z.number().int(),
  session_id: z.string(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
  raw: z.string().optional(),
  created_at: z.string(),
});

export const secretNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "letters, digits and _, at most 128");
export const setSecretSchema = z.strictObject({ value: z.string().min(1).max(65_536) });
export const secretSchema = z.object({ name: z.string(), created_at: z.string(), updated_at: z.string() });
