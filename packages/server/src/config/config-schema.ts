import { z } from "zod";
import { runtimeNames } from "@ciab/protocol";

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
  max_connections_per_address: z.coerce.number().int().min(1).default(256),
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
});

export const storeSectionSchema = z.strictObject({
  driver: z.enum(["sqlite"]).default("sqlite"),
  /** Defaults to `<data_dir>/ciab.db`. */
  sqlite_path: z.string().min(1).optional(),
});

export const localRuntimeSchema = z.strictObject({
  /** `bwrap`: a bubblewrap jail per sandbox. `none`: plain processes on the host, for trusted use only. */
  isolation: z.enum(["bwrap", "none"]).default("bwrap"),
  /** `none`: a network namespace with loopback only. `host`: the host's network. */
  network: z.enum(["none", "host"]).default("none"),
  bwrap_path: z.string().min(1).default("bwrap"),
});

export const dockerRuntimeSchema = z.strictObject({
  socket_path: z.string().min(1).default("/var/run/docker.sock"),
  default_image: z.string().min(1).default("ciab/default:bookworm"),
  /** Build the default image from Debian packages (scripts/build-default-image.sh) when it is missing. */
  build_default_image: bool.default(true),
  network: z.enum(["none", "host"]).default("none"),
  default_cpus: z.coerce.number().positive().optional(),
  default_memory_mb: z.coerce.number().int().positive().optional(),
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
});

const upstreamURL = z.url({ protocol: /^https?$/ });

/** The model gateway's upstreams; a base URL may carry a path prefix (see gateway/gateway-config.ts). */
export const gatewaySectionSchema = z.strictObject({
  anthropic_base_url: upstreamURL.default("https://api.anthropic.com"),
  openai_base_url: upstreamURL.default("https://api.openai.com"),
  google_base_url: upstreamURL.default("https://generativelanguage.googleapis.com"),
});

export const policySectionSchema = z.strictObject({
  /**
   * Let sessions clone repositories from paths (and file:// URLs) on the control plane's host. Off by
   * default: in a shared installation it would let any member read any repository the server can read.
   */
  allow_local_repos: bool.default(false),
  /** Let non-admins create sandboxes with `network: "host"` (the host's loopback services become reachable). */
  allow_host_network: bool.default(false),
});

export const configSchema = z.strictObject({
  server: serverSectionSchema.default(serverSectionSchema.parse({})),
  store: storeSectionSchema.default(storeSectionSchema.parse({})),
  runtime: runtimeSectionSchema.default(runtimeSectionSchema.parse({})),
  gateway: gatewaySectionSchema.default(gatewaySectionSchema.parse({})),
  policy: policySectionSchema.default(policySectionSchema.parse({})),
});

export type Config = z.infer<typeof configSchema>;
export type LocalRuntimeConfig = z.infer<typeof localRuntimeSchema>;
export type DockerRuntimeConfig = z.infer<typeof dockerRuntimeSchema>;
export type GatewaySectionConfig = z.infer<typeof gatewaySectionSchema>;
