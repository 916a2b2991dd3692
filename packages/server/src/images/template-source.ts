import { execFile } from "node:child_process";
import { cp, lstat, mkdir, readdir, readFile, realpath, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CiabError } from "@ciab/protocol";
import { pinnedLookup, type OutboundPolicy } from "../services/outbound-policy.js";
import { isRedirectFailure, pinGitRemote, repoLocation } from "../services/git-remote.js";

export const builtinTemplates = ["default-ec2", "default-docker"] as const;
export type BuiltinTemplate = (typeof builtinTemplates)[number];

const builtinDirectory = path.join(path.dirname(fileURLToPath(import.meta.url)), "builtin");
const fetchTimeoutMs = 30_000;
const gitTimeoutMs = 120_000;

export interface TemplateSourceOptions {
  /** Outbound checks for http(s) and remote git sources. */
  policy: OutboundPolicy;
  /** Paths and file:// repositories on the control plane's host; off unless the caller may read them. */
  allowLocal: boolean;
  maxBytes: number;
  signal: AbortSignal;
}

/** What a source names, parsed before anything is fetched so that bad input fails at the request. */
export type TemplateSource =
  | { kind: "builtin"; name: BuiltinTemplate }
  | { kind: "file"; path: string }
  | { kind: "http"; url: URL }
  | { kind: "git"; url: string; subpath: string; ref: string | undefined };

export function parseTemplateSource(source: string): TemplateSource {
  if (source.startsWith("builtin://")) {
    const name = source.slice("builtin://".length);
    if (!(builtinTemplates as readonly string[]).includes(name)) {
      throw new CiabError("invalid_request", `no builtin template ${name}; builtin templates are ${builtinTemplates.join(", ")}`);
    }
    return { kind: "builtin", name: name as BuiltinTemplate };
  }
  if (source.startsWith("git::")) return parseGitSource(source.slice("git::".length));
  if (/^https?:\/\//i.test(source)) {
    try {
      return { kind: "http", url: new URL(source) };
    } catch (error) {
      throw new CiabError("invalid_request", "the template URL is not a valid URL", { cause: error });
    }
  }
  if (source.startsWith("/")) return { kind: "file", path: path.normalize(source) };
  throw new CiabError("invalid_request", "a template source is builtin://<name>, an absolute path, an http(s) URL or git::<url>//<path>?ref=<ref>");
}

/** `git::<url>//<path>?ref=<ref>`: the path inside the repository must stay inside it. */
function parseGitSource(rest: string): TemplateSource {
  const query = rest.lastIndexOf("?ref=");
  const ref = query >= 0 ? rest.slice(query + "?ref=".length) : undefined;
  const location = query >= 0 ? rest.slice(0, query) : rest;
  const schemeEnd = location.indexOf("://");
  const split = location.indexOf("//", schemeEnd >= 0 ? schemeEnd + 3 : 0);
  const url = split >= 0 ? location.slice(0, split) : location;
  const subpath = split >= 0 ? location.slice(split + 2) : "";
  if (ref !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(ref)) throw new CiabError("invalid_request", "the git ref is not a branch or tag name");
  if (subpath.split("/").some((segment) => segment === ".." ) || path.isAbsolute(subpath) || subpath.includes("\0")) {
    throw new CiabError("invalid_request", "the path inside the git repository must stay inside it");
  }
  if (url === "" || url.startsWith("-")) throw new CiabError("invalid_request", "the git source has no repository URL");
  repoLocation(url);
  return { kind: "git", url, subpath, ref };
}

/** Puts the template's files into `directory` (Packer then builds the directory); returns the source's kind. */
export async function materializeTemplate(source: TemplateSource, directory: string, options: TemplateSourceOptions): Promise<void> {
  await mkdir(directory, { recursive: true });
  if (source.kind === "builtin") {
    await cp(path.join(builtinDirectory, source.name), directory, { recursive: true });
    return;
  }
  if (source.kind === "file") {
    if (!options.allowLocal) throw new CiabError("forbidden", "template paths on the control plane's host are for installation admins");
    await copyTemplateFiles(source.path, directory, options.maxBytes);
    return;
  }
  if (source.kind === "http") {
    const text = await fetchTemplate(source.url, options);
    await writeFile(path.join(directory, "template.pkr.hcl"), text);
    return;
  }
  const checkout = `${directory}.git`;
  await cloneTemplate(source, checkout, options);
  const root = await realpath(checkout);
  const target = await realpath(path.join(checkout, source.subpath)).catch(() => {
    throw new CiabError("invalid_request", `the git repository has no path ${source.subpath || "/"}${source.ref ? ` at ${source.ref}` : ""}`);
  });
  if (target !== root && !target.startsWith(`${root}/`)) throw new CiabError("invalid_request", "the path inside the git repository must stay inside it");
  await copyTemplateFiles(target, directory, options.maxBytes);
}

/** A file, or the regular files at the top of a directory (Packer builds a directory's `*.pkr.hcl`). */
async function copyTemplateFiles(from: string, directory: string, maxBytes: number): Promise<void> {
  const stat = await lstat(from).catch((error: unknown) => {
    throw new CiabError("invalid_request", `template ${from} cannot be read`, { cause: error });
  });
  const entries = stat.isDirectory() ? (await readdir(from)).map((name) => path.join(from, name)) : [from];
  let total = 0;
  let templates = 0;
  for (const entry of entries) {
    const info = await lstat(entry);
    if (!info.isFile()) continue;
    total += info.size;
    if (total > maxBytes) throw new CiabError("payload_too_large", `the template is larger than [packer] max_template_bytes (${maxBytes})`);
    const name = stat.isDirectory() ? path.basename(entry) : path.basename(entry).endsWith(".pkr.hcl") ? path.basename(entry) : "template.pkr.hcl";
    if (name.endsWith(".pkr.hcl")) templates += 1;
    await writeFile(path.join(directory, name), await readFile(entry));
  }
  if (templates === 0) throw new CiabError("invalid_request", `no Packer HCL2 template (*.pkr.hcl) at ${path.basename(from)}`);
}

async function fetchTemplate(url: URL, options: TemplateSourceOptions): Promise<Buffer> {
  const target = await options.policy.resolve(url.hostname.replace(/^\[(.*)\]$/, "$1"));
  const client = url.protocol === "https:" ? https : http;
  return new Promise<Buffer>((resolve, reject) => {
    const unreachable = (error: unknown) => reject(new CiabError("invalid_request", `template URL ${url.origin}${url.pathname} cannot be fetched: ${(error as Error).message}`, { cause: error }));
    const request = client.get(url, { lookup: pinnedLookup(target), signal: options.signal, timeout: fetchTimeoutMs }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        unreachable(new Error(`HTTP ${response.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          request.destroy();
          reject(new CiabError("payload_too_large", `the template is larger than [packer] max_template_bytes (${options.maxBytes})`));
          return;
        }
        chunks.push(chunk);
      });
      response.on("end", () => resolve(Buffer.concat(chunks)));
      response.on("error", unreachable);
    });
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", unreachable);
  });
}

async function cloneTemplate(source: Extract<TemplateSource, { kind: "git" }>, checkout: string, options: TemplateSourceOptions): Promise<void> {
  const local = repoLocation(source.url).kind === "local";
  if (local && !options.allowLocal) throw new CiabError("forbidden", "git repositories on the control plane's host are for installation admins");
  const pinned = local ? undefined : await pinGitRemote(source.url, options.policy);
  const args = [
    ...(pinned?.config ?? []),
    "-c", "protocol.allow=never", "-c", `protocol.${local ? "file" : (/^(\w+):/.exec(source.url)?.[1] ?? "ssh").toLowerCase()}.allow=always`,
    "clone", "--quiet", "--depth", "1", "--no-tags",
    ...(source.ref ? ["--branch", source.ref] : []),
    "--", pinned?.url ?? source.url, checkout,
  ];
  await new Promise<void>((resolve, reject) => {
    execFile("git", args, { timeout: gitTimeoutMs, signal: options.signal, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_SSH_COMMAND: "ssh -o BatchMode=yes" }, maxBuffer: 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const text = String(stderr);
      if (source.ref && /Remote branch .* not found|not found in upstream/.test(text)) {
        return reject(new CiabError("invalid_request", `the git ref ${source.ref} does not exist in ${source.url}`));
      }
      if (isRedirectFailure(text)) return reject(new CiabError("invalid_request", "the git remote redirected; redirects are not followed"));
      reject(new CiabError("invalid_request", `git clone of the template failed: ${text.trim().split("\n").at(-1)?.slice(0, 500) ?? "unknown error"}`, { cause: error }));
    });
  });
}

/** Names of the variables a template directory declares (`variable "name" {`). */
export async function declaredVariables(directory: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const name of await readdir(directory)) {
    if (!name.endsWith(".pkr.hcl")) continue;
    const text = await readFile(path.join(directory, name), "utf8");
    for (const match of text.matchAll(/^\s*variable\s+"([A-Za-z_][A-Za-z0-9_-]*)"\s*\{/gm)) names.add(match[1]!);
  }
  return names;
}
