import { realpath } from "node:fs/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { CiabError } from "@ciab/protocol";
import type { OutboundPolicy, OutboundTarget } from "./outbound-policy.js";

/** How to reach a checked remote: the URL to give git and the options that keep it on the checked address. */
export interface PinnedGitRemote {
  url: string;
  /** `-c name=value` pairs, flattened, to put before the git subcommand. */
  config: string[];
  /** Extra `ssh` options (host key checked under the name, though the connection goes to the address). */
  sshOptions: string[];
}

interface ParsedRemote {
  scheme: "http" | "https" | "ssh" | "git" | "scp";
  host: string;
  rebuild(target: OutboundTarget): PinnedGitRemote;
}

/**
 * Whether a repository URL is a path on this host (a path, or file://) or a remote, and which host a remote
 * connects to. Only forms we check and pin are remotes; every other way git knows to reach somewhere
 * (`git+ssh://`, `<transport>::<address>`, other schemes) is refused, so none slips by as a "path".
 */
export function repoLocation(url: string): { kind: "local" } | { kind: "remote"; host: string } {
  if (/^file:\/\//i.test(url)) return { kind: "local" };
  const beforeSlash = url.split("/")[0]!;
  if (beforeSlash.replace(/\[[^\]]*\]/g, "").includes("::")) throw unsupported();
  const remote = parseRemote(url);
  if (remote) return { kind: "remote", host: remote.host };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw unsupported();
  // git reads a colon before the first slash as `host:path` over ssh; one that is not a plain host is refused.
  if (beforeSlash.includes(":")) throw new CiabError("invalid_request", "the repository URL's host is not a host name or an address");
  return { kind: "local" };
}

/**
 * The directory a local repository URL names, as git run in a fresh temp dir (repo-checkout.ts) reads it:
 * a relative path counts from there.
 */
export function localRepoPath(url: string): string {
  const named = /^file:\/\//i.test(url) ? decodeURIComponent(url.replace(/^file:\/\/[^/]*/i, "")) : url;
  return path.resolve(tmpdir(), "ciab-repo-checkout", named);
}

/** Whether `target` is `directory` or below it, by name and, where it exists, after resolving links. */
export async function isInsideDirectory(target: string, directory: string): Promise<boolean> {
  const below = (candidate: string, base: string) => candidate === base || candidate.startsWith(`${base}/`);
  const base = path.resolve(directory);
  const realBase = await realpath(base).catch(() => base);
  if (below(path.resolve(target), base) || below(path.resolve(target), realBase)) return true;
  const real = await realpath(target).catch(() => undefined);
  return real !== undefined && (below(real, base) || below(real, realBase));
}

function unsupported(): CiabError {
  return new CiabError("invalid_request", "repository URLs are https://, http://, ssh://, git://, [user@]host:path, or a path");
}

/** The host a remote repository URL connects to, or undefined for a path on this host. */
export function gitRemoteHost(url: string): string | undefined {
  const location = repoLocation(url);
  return location.kind === "remote" ? location.host : undefined;
}

/**
 * Checks a remote repository URL against the outbound policy and pins git to the address that was checked:
 * http(s) through curl's resolve list (`http.curloptResolve`, so TLS still verifies the name) with redirects
 * off (a redirect could lead anywhere after the check); ssh, git and scp-style remotes by putting the address
 * in the URL. A second DNS answer cannot move the connection. Paths on this host are not remotes: undefined.
 */
export async function pinGitRemote(url: string, policy: OutboundPolicy): Promise<PinnedGitRemote | undefined> {
  if (repoLocation(url).kind === "local") return undefined;
  const remote = parseRemote(url)!;
  return remote.rebuild(await policy.resolve(remote.host));
}

/** git's message when `http.followRedirects=false` meets a redirect. */
export function isRedirectFailure(stderr: string): boolean {
  return /returned error: 3\d\d/.test(stderr);
}

function parseRemote(url: string): ParsedRemote | undefined {
  const scheme = /^(https?|ssh|git):\/\//i.exec(url)?.[1]?.toLowerCase() as ParsedRemote["scheme"] | undefined;
  if (scheme !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new CiabError("invalid_request", "the repository URL is not a valid URL", { cause: error });
    }
    const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
    if (host === "") throw new CiabError("invalid_request", "the repository URL has no host");
    return { scheme, host, rebuild: (target) => (scheme === "http" || scheme === "https" ? pinHTTP(parsed, target) : pinInURL(parsed, target)) };
  }
  const scp = /^([\w.-]+@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?![/:])(.*)$/s.exec(url);
  if (scp) {
    const [, user = "", bracketed = "", path = ""] = scp;
    const host = bracketed.replace(/^\[(.*)\]$/, "$1");
    return {
      scheme: "scp",
      host,
      rebuild: (target) => ({ url: `${user}${literal(target.address)}:${path}`, config: [], sshOptions: hostKeyAlias(host) }),
    };
  }
  return undefined;
}

function pinHTTP(parsed: URL, target: OutboundTarget): PinnedGitRemote {
  const config = ["-c", "http.followRedirects=false"];
  if (!isIP(target.host)) {
    const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
    // The name exactly as the URL handed to git spells it, so curl finds it in its resolve list.
    config.push("-c", `http.curloptResolve=${parsed.hostname}:${port}:${literal(target.address)}`);
  }
  return { url: parsed.href, config, sshOptions: [] };
}

function pinInURL(parsed: URL, target: OutboundTarget): PinnedGitRemote {
  const pinned = new URL(parsed.href);
  pinned.hostname = literal(target.address);
  return { url: pinned.href, config: [], sshOptions: parsed.protocol === "ssh:" ? hostKeyAlias(target.host) : [] };
}

function literal(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/** Only a plain DNS name goes into ssh's command line (GIT_SSH_COMMAND runs through a shell). */
function hostKeyAlias(host: string): string[] {
  return /^[a-z0-9.-]+$/i.test(host) && !isIP(host) ? ["-o", `HostKeyAlias=${host}`] : [];
}
