import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { CiabError } from "@ciab/protocol";
import { configSchema, runtimeSectionSchema, type Config } from "./config-schema.js";

/** Env names outside the `CIAB_<SECTION>_<KEY>` pattern that users know from the seed documents. */
const envAliases: Record<string, string[]> = {
  CIAB_DATA_DIR: ["server", "data_dir"],
  CIAB_PORT: ["server", "port"],
  CIAB_RUNTIME: ["runtime", "backend"],
  CIAB_EC2_MAX_RUNTIME_MINUTES: ["budget", "max_runtime_minutes"],
  CIAB_EC2_MAX_HOURLY_USD: ["budget", "max_hourly_usd"],
  CIAB_SESSION_IDLE_TIMEOUT: ["budget", "idle_timeout_seconds"],
  CIAB_EC2_AMI_ID: ["runtime", "ec2", "default_ami"],
  CIAB_EC2_INSTANCE_TYPE: ["runtime", "ec2", "instance_type"],
  CIAB_EC2_SUBNET_ID: ["runtime", "ec2", "subnet_id"],
  CIAB_EC2_SECURITY_GROUP_IDS: ["runtime", "ec2", "security_group_ids"],
  CIAB_EC2_IAM_INSTANCE_PROFILE: ["runtime", "ec2", "iam_instance_profile"],
  CIAB_EC2_VOLUME_SIZE_GB: ["runtime", "ec2", "root_volume_size_gb"],
  CIAB_EC2_SPOT: ["runtime", "ec2", "spot"],
  CIAB_EC2_ENDPOINT: ["runtime", "ec2", "endpoint"],
  CIAB_PREVIEW_TOKEN_TTL: ["previews", "token_ttl_seconds"],
  CIAB_ARTIFACT_SCAN: ["artifacts", "scan"],
  CIAB_ARTIFACT_BACKEND: ["artifacts", "backend"],
};

export interface LoadConfigOptions {
  /** config.toml to read; `<data dir>/config.toml` or `./config.toml` when absent and present. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Command-line flags, as dotted keys (`server.port`); they win over everything. */
  flags?: Record<string, unknown>;
}

/** Parses config once (flag > env > config.toml > default) and freezes it. */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const raw: Record<string, unknown> = {};
  const configPath = findConfigFile(options.configPath, env);
  if (configPath) {
    try {
      Object.assign(raw, parseToml(readFileSync(configPath, "utf8")));
    } catch (error) {
      throw new CiabError("invalid_request", `cannot read ${configPath}: ${(error as Error).message}`, { cause: error });
    }
  }
  applyEnv(raw, env);
  for (const [dotted, value] of Object.entries(options.flags ?? {})) {
    if (value !== undefined) setPath(raw, dotted.split("."), value);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new CiabError("invalid_request", describeIssues(result.error));
  return deepFreeze(result.data);
}

function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (explicit) {
    if (!existsSync(explicit)) throw new CiabError("invalid_request", `config file ${explicit} does not exist`);
    return explicit;
  }
  const candidates = [env.CIAB_CONFIG, env.CIAB_DATA_DIR && path.join(env.CIAB_DATA_DIR, "config.toml"), "config.toml"];
  return candidates.find((candidate): candidate is string => Boolean(candidate) && existsSync(candidate as string));
}

/**
 * Maps `CIAB_<SECTION>_<KEY>` onto the schema by walking it, so nested sections and keys with
 * underscores (`CIAB_RUNTIME_DOCKER_DEFAULT_IMAGE`) resolve without a hand-kept list.
 */
function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, keyPath] of Object.entries(envAliases)) {
    const value = env[name];
    if (value !== undefined && value !== "") setPath(raw, keyPath, value);
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("CIAB_") || value === undefined || value === "" || name in envAliases) continue;
    const keyPath = resolveEnvName(name.slice("CIAB_".length).toLowerCase(), configSchema);
    if (keyPath) setPath(raw, keyPath, value);
  }
  enableChosenRuntime(raw, env.CIAB_RUNTIME);
}

/** `CIAB_RUNTIME=ec2` alone is enough to run on ec2: the chosen backend joins `runtime.enabled`. */
function enableChosenRuntime(raw: Record<string, unknown>, backend: string | undefined): void {
  if (backend === undefined || backend === "") return;
  const runtime = (raw.runtime ?? {}) as Record<string, unknown>;
  const configured = runtime.enabled ?? runtimeSectionSchema.parse({}).enabled;
  const enabled = typeof configured === "string" ? configured.split(",").map((name) => name.trim()) : configured;
  if (Array.isArray(enabled) && !enabled.includes(backend)) setPath(raw, ["runtime", "enabled"], [...enabled, backend]);
}

function resolveEnvName(rest: string, schema: z.ZodType): string[] | undefined {
  const shape = objectShape(schema);
  if (!shape) return undefined;
  for (const key of Object.keys(shape).sort((a, b) => b.length - a.length)) {
    if (rest === key) return objectShape(shape[key]!) ? undefined : [key];
    if (rest.startsWith(`${key}_`)) {
      const inner = resolveEnvName(rest.slice(key.length + 1), shape[key]!);
      if (inner) return [key, ...inner];
    }
  }
  return undefined;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let current: z.ZodType = schema;
  while (current instanceof z.ZodDefault || current instanceof z.ZodOptional) {
    current = current.unwrap() as z.ZodType;
  }
  return current instanceof z.ZodObject ? (current.shape as Record<string, z.ZodType>) : undefined;
}

/** The env name that sets a config key: `runtime.docker.default_image` → `CIAB_RUNTIME_DOCKER_DEFAULT_IMAGE`. */
export function envNameOf(keyPath: ReadonlyArray<PropertyKey>): string {
  return `CIAB_${keyPath.map(String).join("_").toUpperCase()}`;
}

function describeIssues(error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const keyPath = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      const keys = issue.keys.map((key) => [...keyPath, key].join(".")).join(", ");
      return `unknown config key ${keys}`;
    }
    const key = keyPath.join(".");
    return `invalid config ${key} (${envNameOf(keyPath)}): ${issue.message}`;
  });
  return lines.join("; ");
}

function setPath(target: Record<string, unknown>, keyPath: string[], value: unknown): void {
  let node = target;
  for (const key of keyPath.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keyPath[keyPath.length - 1]!] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
