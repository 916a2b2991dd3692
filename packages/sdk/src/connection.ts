import { readFile } from "node:fs/promises";
import path from "node:path";
import { CiabConnectionError } from "./errors.js";
import { readUserConfig, userConfigPath } from "./user-config.js";

/** Where and as whom to talk to a ciab server. */
export interface Connection {
  url: string;
  token: string | undefined;
}

export interface ResolveConnectionOptions {
  /** Wins over everything (a `--url` flag). */
  url?: string | undefined;
  /** Wins over everything (a `--token` flag). */
  token?: string | undefined;
  /** Where a local server keeps `server.json` and `admin-token`; wins over `CIAB_DATA_DIR`. */
  dataDirectory?: string | undefined;
  /** Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Relative data directories resolve against this; defaults to `process.cwd()`. */
  cwd?: string;
}

export const defaultDataDirectory = ".ciab";

export const noServerMessage =
  "no ciab server found: start one with `npx ciab server`, set CIAB_URL, or save one with `ciab login`";

export const untrustedDirectoryMessage =
  "a token from CIAB_TOKEN or --token goes only to a server you name: set CIAB_URL (or --url), save one with `ciab login`, or name the data dir with CIAB_DATA_DIR (or --data-dir); a ./.ciab/server.json could have been put there by the repository you are in";

/** The data directory by flag > `CIAB_DATA_DIR` > `./.ciab`, made absolute. */
export function resolveDataDirectory(
  options: Pick<ResolveConnectionOptions, "dataDirectory" | "env" | "cwd"> = {},
): string {
  const env = options.env ?? process.env;
  const directory = nonEmpty(options.dataDirectory) ?? nonEmpty(env.CIAB_DATA_DIR) ?? defaultDataDirectory;
  return path.resolve(options.cwd ?? process.cwd(), directory);
}

/**
 * Resolves url and token by flags > `CIAB_URL`/`CIAB_TOKEN` > a data dir the user named (its
 * `server.json` and `admin-token`) > the user's config file (`ciab login`) > `./.ciab`. A token found
 * beside a URL (admin token, saved token) is only sent to that URL's origin, so pointing `CIAB_URL`
 * elsewhere never leaks it. A token from a flag or the environment goes only to a server the user named:
 * by URL, in their config file, or by a data dir they named. The default `./.ciab` is found in whatever
 * directory one stands in, and any repository can carry one.
 */
export async function resolveConnection(options: ResolveConnectionOptions = {}): Promise<Connection> {
  const env = options.env ?? process.env;
  const explicitURL = nonEmpty(options.url) ?? nonEmpty(env.CIAB_URL);
  const explicitToken = nonEmpty(options.token) ?? nonEmpty(env.CIAB_TOKEN);
  if (explicitURL !== undefined && explicitToken !== undefined) {
    return { url: normalizeURL(explicitURL), token: explicitToken };
  }
  const found = await findServer(options, env, explicitToken !== undefined && explicitURL === undefined);
  const url = explicitURL ?? found?.url;
  if (url === undefined) throw new CiabConnectionError("server_not_found", noServerMessage);
  let token = explicitToken;
  if (token === undefined && found !== undefined && sameOrigin(url, found.url)) token = await found.token();
  return { url: normalizeURL(url), token };
}

interface FoundServer {
  url: string;
  token(): Promise<string | undefined>;
}

/** The first server named by the data dir flag/env, the user config, then `./.ciab` (unless `namedOnly`). */
async function findServer(
  options: ResolveConnectionOptions,
  env: Record<string, string | undefined>,
  namedOnly: boolean,
): Promise<FoundServer | undefined> {
  const namedDirectory = nonEmpty(options.dataDirectory) ?? nonEmpty(env.CIAB_DATA_DIR);
  if (namedDirectory === undefined) {
    const config = await readUserConfig(userConfigPath(env));
    if (config !== undefined) return { url: config.url, token: async () => config.token };
    if (namedOnly) throw new CiabConnectionError("server_not_found", untrustedDirectoryMessage);
  }
  const directory = resolveDataDirectory(options);
  const local = await readLocalServer(directory);
  if (local === undefined) return undefined;
  return { url: local.url, token: () => readToken(path.join(directory, "admin-token")) };
}

interface LocalServer {
  url: string;
  pid: number | undefined;
}

async function readLocalServer(directory: string): Promise<LocalServer | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(directory, "server.json"), "utf8");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  let parsed: { url?: unknown; pid?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return undefined;
  }
  if (typeof parsed.url !== "string") return undefined;
  const pid = typeof parsed.pid === "number" ? parsed.pid : undefined;
  if (pid !== undefined && !isRunning(pid)) return undefined;
  return { url: parsed.url, pid };
}

async function readToken(file: string): Promise<string | undefined> {
  try {
    return nonEmpty((await readFile(file, "utf8")).trim());
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** A server.json left behind by a server that crashed names a pid that is gone. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function normalizeURL(url: string): string {
  return url.replace(/\/+$/, "");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
