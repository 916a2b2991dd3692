import { z } from "zod";
import { isIP } from "node:net";
import { persistenceModes, runtimeNames } from "@ciab/protocol";
import { ec2RuntimeSchema } from "../runtimes/ec2/ec2-runtime-config.js";
import { fargateRuntimeSchema } from "../runtimes/fargate/fargate-runtime-config.js";
import { packerSectionSchema } from "../images/packer-config.js";

/**
 * The whole configuration, one zod schema. Every key is settable in config.toml and as
 * `CIAB_<SECTION>_<KEY>` (nested sections joined: `CIAB_RUNTIME_DOCKER_DEFAULT_IMAGE`).
 * Precedence: flag > env > config.toml > default.
 */
const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().min(0);
const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);

export const serverSectionSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: port.default(8420),
  /** Where the database, admin token, sandbox dirs and logs live. */
  data_dir: z.string().min(1).default(".ciab"),
  log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /**
   * Largest JSON request body; uploads stream and are not bounded by it. A JSON body is held whole while
   * it is parsed (several times its size), so this bounds what one request adds to the server's memory.
   */
  body_limit_bytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  /** Largest raw body written to a process's stdin in one request. */
  stdin_limit_bytes: z.coerce.number().int().min(1024).default(16 * 1024 * 1024),
  /** Most bytes of events in one JSON page (a page always holds at most `limit` events too). */
  event_page_bytes: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(100 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  /** Open HTTP connections, in all and from one address; past either, new connections are closed at once. */
  max_connections: z.coerce.number().int().min(1).default(4096),
  max_connections_per_address: z.coerce.number().int().min(1).default(1024),
  /**
   * Connections the kernel queues before the server accepts them. A full queue drops new connections'
   * first packets, which their clients resend only after a second: a burst must not fill it.
   */
  listen_backlog: z.coerce.number().int().min(16).max(65535).default(4096),
  /** Largest request head (request line and headers). */
  max_header_bytes: z.coerce.number().int().min(1024).max(1024 * 1024).default(16 * 1024),
  /** How long a client may take to send its request head, and its whole request (0: no limit, for slow uploads). */
  headers_timeout_seconds: seconds.min(1).default(20),
  request_timeout_seconds: seconds.default(0),
  /** How long an idle keep-alive connection stays open. */
  keep_alive_timeout_seconds: seconds.min(1).default(5),
  reconcile_interval_seconds: seconds.default(30),
  /** How long an unowned machine labelled ours may live before the reconciler destroys it. */
  orphan_grace_seconds: seconds.default(300),
  /** How long to wait for agentd in a new machine before the sandbox fails. */
  agent_ready_timeout_seconds: seconds.default(60),
  /**
   * How machines reach this server (`https://ciab.example.com`); ec2 instances on a plain AMI download
   * node and agentd from it through signed URLs. Unset: only pre-built AMIs can be used.
   */
  public_url: z.url({ protocol: /^https?$/ }).optional(),
});

export const storeSectionSchema = z.strictObject({
  driver: z.enum(["sqlite", "dynamodb"]).default("sqlite"),
  /** Defaults to `<data_dir>/ciab.db`. */
  sqlite_path: z.string().min(1).optional(),
  /** The DynamoDB table (driver `dynamodb`); the Foundation stack names it `ciab-<env>-state`. */
  table: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, "a DynamoDB table name: 3 to 255 letters, digits, _ . -")
    .default("ciab-state"),
  region: z.string().min(1).default("us-east-1"),
  /** A DynamoDB-compatible endpoint (moto, DynamoDB Local); AWS's own by default. */
  endpoint: z.url().optional(),
  /** Create the table at start-up when it is missing; unset: yes, except in AWS Lambda, where the stack owns it. */
  create_table: bool.optional(),
});

export const localRuntimeSchema = z.strictObject({
  /** `bwrap`: a bubblewrap jail per sandbox. `none`: plain processes on the host, for trusted use only. */
  isolation: z.enum(["bwrap", "none"]).default("bwrap"),
  /** `none`: a network namespace with loopback only. `host`: the host's network. */
  network: z.enum(["none", "host"]).default("none"),
  bwrap_path: z.string().min(1).default("bwrap"),
  /**
   * Jails get host uids from this range, one each (when the server runs as root). The default sits above
   * systemd-nspawn's container range and below 2^31, clear of /etc/subuid ranges handed to users.
   */
  jail_uid_base: z.coerce.number().int().min(1).max(2 ** 32 - 2).default(2_000_000_000),
  jail_uid_count: z.coerce.number().int().min(1).default(65_536),
  /** Limits of a jail whose sandbox asks for none (`resources`), through a cgroup of its own. */
  default_cpus: z.coerce.number().positive().optional(),
  default_memory_mb: z.coerce.number().int().positive().default(4096),
  default_pids: z.coerce.number().int().positive().default(4096),
  /** Size of a jail's `/tmp` and of its `/dev/shm` (tmpfs, in memory). */
  tmp_size_mb: z.coerce.number().int().positive().default(1024),
  /** Size of a jail's `/workspace` (a loop-mounted ext4 volume; needs root); 0 for no quota. */
  workspace_size_mb: z.coerce.number().int().min(0).default(10_240),
});

export const dockerRuntimeSchema = z.strictObject({
  socket_path: z.string().min(1).default("/var/run/docker.sock"),
  default_image: z.string().min(1).default("ciab/default:bookworm"),
  /** Build the default image from Debian packages (scripts/build-default-image.sh) when it is missing. */
  build_default_image: bool.default(true),
  network: z.enum(["none", "host"]).default("none"),
  default_cpus: z.coerce.number().positive().optional(),
  default_memory_mb: z.coerce.number().int().positive().default(4096),
  default_pids: z.coerce.number().int().positive().default(4096),
});

export const runtimeSectionSchema = z.strictObject({
  /** The runtime a sandbox gets when its request names none. */
  backend: z.enum(runtimeNames).default("local"),
  /** Runtimes this server offers. */
  enabled: z
    .union([z.array(z.enum(runtimeNames)), z.string().transform((v) => v.split(",").map((s) => s.trim()))])
    .pipe(z.array(z.enum(runtimeNames)))
    .default(["local", "docker"]),
  /** Host dir of agent CLIs shared by every machine (read-only inside); `~/.cache/ciab/tools` by default. */
  tools_dir: z.string().min(1).optional(),
  local: localRuntimeSchema.default(localRuntimeSchema.parse({})),
  docker: dockerRuntimeSchema.default(dockerRuntimeSchema.parse({})),
  ec2: ec2RuntimeSchema.default(ec2RuntimeSchema.parse({})),
  fargate: fargateRuntimeSchema.default(fargateRuntimeSchema.parse({})),
  /** A sandbox's persistence when its request names none (docs/decisions/0025-persistence-modes.md). */
  persistence: z.enum(persistenceModes).default("ephemeral"),
  /** `snapshot-on-idle`: how long the snapshot before a sandbox ends may take; past it the sandbox ends without one. */
  final_snapshot_timeout_seconds: z.coerce.number().int().min(1).max(86_400).default(600),
  /** The largest `volume_size_gib` a request may ask for (runtimes that size volumes: ec2). */
  volume_max_size_gib: z.coerce.number().int().min(1).max(16_384).default(100),
  /** How long a claim of a volume waits for a sandbox that is ending to free it; a live holder is refused at once. */
  volume_release_wait_seconds: z.coerce.number().int().min(0).max(3_600).default(60),
  /** `[runtime.workspaces.<workspace id>]`: what one workspace does differently. config.toml only. */
  workspaces: z
    .record(
      z.string().min(1),
      z.strictObject({ persistence: z.enum(persistenceModes).optional(), volume_max_size_gib: z.coerce.number().int().min(1).max(16_384).optional() }),
    )
    .default({}),
});

const upstreamURL = z.url({ protocol: /^https?$/ });

/** The model gateway's upstreams; a base URL may carry a path prefix (see gateway/gateway-config.ts). */
export const gatewaySectionSchema = z.strictObject({
  anthropic_base_url: upstreamURL.default("https://api.anthropic.com"),
  openai_base_url: upstreamURL.default("https://api.openai.com"),
  google_base_url: upstreamURL.default("https://generativelanguage.googleapis.com"),
});

/** A list in config.toml, or comma-separated in an env variable. */
const stringList = z.union([
  z.array(z.string()),
  z.string().transform((v) => v.split(",").map((s) => s.trim()).filter((s) => s !== "")),
]);

/** A host name, an IP address, or a CIDR. */
const outboundEntry = z.string().refine(isOutboundEntry, { message: "expected a host name, an IP address or a CIDR such as 10.0.0.0/8" });

/**
 * A rule on tool calls by name (`tool = "*"` for all): with `outside` it matches calls whose path (or cwd)
 * resolves outside that dir, with `inside` calls whose path resolves within it; the first rule that matches
 * decides (`allow`, `approval`: held until an admin decides, `deny`); no rule matching allows.
 */
export const toolRuleSchema = z.strictObject({
  tool: z.string().regex(/^(\*|[a-z_]{1,64})$/, "a tool name or *"),
  outside: z.string().startsWith("/").optional(),
  inside: z.string().startsWith("/").optional(),
  action: z.enum(["allow", "approval", "deny"]),
});
export type ToolRule = z.infer<typeof toolRuleSchema>;

/** A list of rules in config.toml (`[[policy.tool_rules]]`), or JSON in `CIAB_POLICY_TOOL_RULES`. */
const toolRules = z.union([
  z.array(z.unknown()),
  z.string().transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: "custom", message: "expected a JSON array of rules" });
      return z.NEVER;
    }
  }),
]);

export const policySectionSchema = z.strictObject({
  /**
   * Let sessions clone repositories from paths (and file:// URLs) on the control plane's host. Off by
   * default: in a shared installation it would let any member read any repository the server can read.
   */
  allow_local_repos: bool.default(false),
  /** Let everyone, not only installation admins, create sandboxes with `network: "host"` (the host's loopback services become reachable). */
  allow_host_network: bool.default(false),
  /**
   * Let connections the server makes for callers (repository clones) reach private, CGNAT, link-local and
   * IPv6 unique-local addresses. Loopback and cloud metadata addresses stay refused unless in outbound_allow.
   */
  allow_private_network: bool.default(false),
  /** Host names or addresses / CIDRs (`git.corp.example`, `10.20.0.0/16`, `127.0.0.1`) reachable whatever they are. */
  outbound_allow: stringList.pipe(z.array(outboundEntry)).default([]),
  /** Runtimes that callers other than installation admins may use; empty: every enabled runtime. */
  runtimes: stringList.pipe(z.array(z.enum(runtimeNames))).default([]),
  /** Images (besides each runtime's default) that callers other than installation admins may boot; empty: any. */
  images: stringList.default([]),
  /**
   * Let callers boot the images their own workspace built (`img_…`) whatever `images` lists. An `img_…` id
   * only ever resolves within the caller's workspace, so another workspace's builds stay out of reach.
   */
  workspace_images: bool.default(true),
  /** Caps on what callers other than installation admins may ask for in `resources`. */
  max_cpus: z.coerce.number().positive().optional(),
  max_memory_mb: z.coerce.number().int().positive().optional(),
  max_pids: z.coerce.number().int().positive().optional(),
  /** The most a session's repository may take on the control plane's disk while it is cloned and bundled. */
  max_repo_mb: z.coerce.number().int().positive().default(4096),
  /** The most output (stdout and stderr) of one session's agent kept as events in the store; past it the session fails. */
  max_session_output_mb: z.coerce.number().int().positive().default(1024),
  /** Rules on the sandbox tools (docs/decisions/0024-approvals-and-audit.md); by default writes outside /workspace wait for approval. */
  tool_rules: toolRules
    .pipe(z.array(toolRuleSchema).max(200))
    .default([{ tool: "write_file", outside: "/workspace", action: "approval" }]),
  /** A held tool call nobody decided on within this long fails with `approval_timeout`. */
  approval_timeout_seconds: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(900),
  /** The longest a caller may wait on its held call in one request (`wait_secs`, `?wait=true`). */
  approval_max_wait_seconds: z.coerce.number().int().min(0).max(3600).default(300),
});

/** The audit trail of tool calls; it is always kept in the store, and also appended to `file` when set. */
export const auditSectionSchema = z.strictObject({
  /** A JSON-lines file every audit entry is appended to (created 0600). */
  file: z.string().min(1).optional(),
});

const usdPerHour = z.coerce.number().min(0).max(10_000);

/** Cost guardrails (docs/decisions/0013-budget.md). Limits left unset are off. */
export const budgetSectionSchema = z.strictObject({
  /** What a local sandbox costs per hour (it runs on the control plane's host). */
  local_usd_per_hour: usdPerHour.default(0),
  docker_usd_per_hour: usdPerHour.default(0),
  /** A fargate task whose size is unknown; a known size is priced per vCPU and GiB below. */
  fargate_usd_per_hour: usdPerHour.default(0),
  /** Fargate's on-demand Linux/x86 prices per vCPU-hour and GiB-hour (us-east-1). */
  fargate_vcpu_usd_per_hour: usdPerHour.default(0.04048),
  fargate_gib_usd_per_hour: usdPerHour.default(0.004445),
  /** On-demand USD/hour per EC2 instance type, over the built-in table (`"t3.medium" = 0.0416`). */
  prices: z
    .union([z.record(z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, "an instance type"), usdPerHour), z.string().transform(parsePrices)])
    .pipe(z.record(z.string(), usdPerHour))
    .default({}),
  /** Price of an EC2 instance type found in no table. */
  ec2_unknown_usd_per_hour: usdPerHour.default(1),
  /** Hard limit on a session's and a sandbox's life, whatever the activity; fractions allowed. */
  max_runtime_minutes: z.coerce.number().positive().optional(),
  /** A workspace that burned this much within the current clock hour gets no new sessions or sandboxes. */
  max_hourly_usd: z.coerce.number().min(0).optional(),
  /**
   * A live session with no traffic for this long ends with `idle_timeout`. On by default: a forgotten
   * interactive session would otherwise hold its sandbox forever (a session's sandbox is never timed out under it).
   */
  idle_timeout_seconds: z.coerce.number().positive().optional().default(3600),
  /** How often running cost is written to the usage ledger. */
  accrual_interval_seconds: z.coerce.number().positive().default(60),
  /** How often the max-runtime killer and the idle reaper look. */
  enforce_interval_seconds: z.coerce.number().positive().default(15),
});

/** `CIAB_BUDGET_PRICES` as `t3.medium=0.0416,m5.large=0.096`. */
function parsePrices(text: string): Record<string, unknown> {
  const prices: Record<string, unknown> = {};
  for (const pair of text.split(",").map((part) => part.trim()).filter(Boolean)) {
    const [name = "", value = ""] = pair.split("=", 2).map((part) => part.trim());
    prices[name] = value;
  }
  return prices;
}

/** How long sandboxes live (docs/decisions/0027-lifetimes-and-accounts.md): nothing lives forever by accident. */
export const sandboxesSectionSchema = z.strictObject({
  /** Life of a sandbox from when it is ready (or resumed) when its request names none (`timeout_secs`). */
  default_timeout_seconds: z.coerce.number().int().min(1).default(300),
  /** The longest `timeout_secs` a create or set-timeout may ask for. */
  max_timeout_seconds: z.coerce.number().int().min(1).default(7 * 24 * 3600),
  /** What a timeout does: `pause` keeps the work dir (deleted instead where the runtime cannot pause) or `delete`. */
  on_timeout: z.enum(["pause", "delete"]).default("pause"),
  /** A paused sandbox is deleted this long after it paused, whoever paused it. */
  paused_retention_seconds: z.coerce.number().int().min(1).default(24 * 3600),
  /** How often the lifetime loop looks, and the most sandboxes it ends in one pass. */
  check_interval_seconds: z.coerce.number().positive().default(10),
  batch_size: z.coerce.number().int().min(1).max(10_000).default(100),
});

/** Preview URLs of ports inside sandboxes (docs/decisions/0016-previews.md). */
export const previewsSectionSchema = z.strictObject({
  /** Life of a signed preview URL and of the cookie it turns into. */
  token_ttl_seconds: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(600),
  /**
   * With a domain, `<port>-<session_id>.<domain>` also serves previews (for apps that break under a path
   * prefix); DNS and TLS for its wildcard are the operator's.
   */
  domain: z
    .string()
    .regex(/^(?=.{1,200}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?(:\d{1,5})?$/i, "a host name like preview.example.com")
    .optional(),
  /** Origin put in front of signed URLs (`https://ciab.example.com`); by default the origin the caller used. */
  public_url: upstreamURL.optional(),
  /** Preview requests and WebSockets open at once per session; more answer 429 too_many_streams. */
  max_streams_per_session: z.coerce.number().int().min(1).max(10_000).default(64),
});

/** Where artifacts and snapshots live, how downloads are signed and limited, and the virus scan. */
export const artifactsSectionSchema = z.strictObject({
  backend: z.enum(["local", "s3"]).default("local"),
  /** The local store's dir; `<data_dir>/artifacts` by default. */
  dir: z.string().min(1).optional(),
  /** Bytes one user may download per clock hour, across artifacts and snapshots. */
  download_limit_bytes_per_hour: z.coerce.number().int().min(0).default(1024 ** 3),
  /** How long a signed download URL stays valid. */
  url_ttl_seconds: z.coerce.number().int().min(10).max(7 * 24 * 3600).default(3600),
  /** Largest artifact or snapshot accepted; a bigger copy is stopped and nothing is recorded. */
  max_bytes: z.coerce.number().int().min(1).default(20 * 1024 ** 3),
  /** Scan every upload with clamd; when clamd cannot be reached, uploads fail (`scanner_unavailable`). */
  scan: bool.default(false),
  /** clamd's unix socket. */
  clamd_socket: z.string().min(1).optional(),
  /** clamd's TCP address as `host:port`, when not on a socket. */
  clamd_address: z.string().regex(/^[^:]+:\d+$/, "host:port").optional(),
  s3_bucket: z.string().min(3).optional(),
  s3_prefix: z.string().default(""),
  s3_region: z.string().default("us-east-1"),
  /** An S3-compatible endpoint (path-style addressing is used with it). */
  s3_endpoint: z.url().optional(),
});

export const configSchema = z.strictObject({
  server: serverSectionSchema.default(serverSectionSchema.parse({})),
  store: storeSectionSchema.default(storeSectionSchema.parse({})),
  runtime: runtimeSectionSchema.default(runtimeSectionSchema.parse({})),
  gateway: gatewaySectionSchema.default(gatewaySectionSchema.parse({})),
  policy: policySectionSchema.default(policySectionSchema.parse({})),
  budget: budgetSectionSchema.default(budgetSectionSchema.parse({})),
  previews: previewsSectionSchema.default(previewsSectionSchema.parse({})),
  sandboxes: sandboxesSectionSchema.default(sandboxesSectionSchema.parse({})),
  artifacts: artifactsSectionSchema.default(artifactsSectionSchema.parse({})),
  audit: auditSectionSchema.default(auditSectionSchema.parse({})),
  packer: packerSectionSchema.default(packerSectionSchema.parse({})),
});

export type Config = z.infer<typeof configSchema>;
export type LocalRuntimeConfig = z.infer<typeof localRuntimeSchema>;
export type DockerRuntimeConfig = z.infer<typeof dockerRuntimeSchema>;
export type BudgetConfig = z.infer<typeof budgetSectionSchema>;
export type { EC2RuntimeConfig } from "../runtimes/ec2/ec2-runtime-config.js";
export type { FargateRuntimeConfig } from "../runtimes/fargate/fargate-runtime-config.js";
export type SandboxesConfig = z.infer<typeof sandboxesSectionSchema>;
export type PreviewsConfig = z.infer<typeof previewsSectionSchema>;
export type GatewaySectionConfig = z.infer<typeof gatewaySectionSchema>;

function isOutboundEntry(entry: string): boolean {
  const [network = "", prefix, extra] = entry.split("/");
  if (extra !== undefined) return false;
  const version = isIP(network);
  if (version === 0) return prefix === undefined && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(network);
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}
export type { PackerConfig } from "../images/packer-config.js";
export type ArtifactsConfig = z.infer<typeof artifactsSectionSchema>;
export type StoreConfig = z.infer<typeof storeSectionSchema>;
