import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { CiabError } from "@ciab/protocol";
import { configSchema, type Config } from "./config-schema.js";

/** Env names outside the `CIAB_<SECTION>_<KEY>` pattern that users know from the seed documents. */
const envAliases: Record<string, string[]> = {
  CIAB_DATA_DIR: ["server", "data_dir"],
  CIAB_PORT: ["server", "port"],
  CIAB_RUNTIME: ["runtime", "backend"],
  CIAB_EC2_MAX_RUNTIME_MINUTES: ["budget", "max_runtime_minutes"],
  CIAB_EC2_MAX_HOURLY_USD: ["budget", "max_hourly_usd"],
  CIAB_SESSION_IDLE_TIMEOUT: ["budget", "idle_timeout_seconds"],
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
