import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CiabError } from "@ciab/protocol";
import type { AgentClient } from "../agent-channel/agent-client.js";
import { withSizeLimit } from "./directory-size-limit.js";
import { gitRemoteHost, isRedirectFailure, pinGitRemote } from "./git-remote.js";
import { refusal, type OutboundPolicy } from "./outbound-policy.js";

const run = promisify(execFile);

export interface RepoSpec {
  url: string;
  ref?: string | undefined;
}

export interface CheckoutLimits {
  outbound: OutboundPolicy;
  /** `[policy] max_repo_mb`: past this on the host's disk, the clone is stopped and the session fails. */
  maxBytes: number;
}

/** What to check out: a branch (tracked as that branch) or a detached commit. */
interface Resolved {
  commit: string;
  branch: string | undefined;
}

/**
 * Clones the session's repository on the control plane's host (so credentials for private repos never
 * enter the sandbox), bundles it, streams the bundle over the agent channel and checks the ref out in
 * /workspace. No network is needed inside the sandbox.
 */
export async function checkoutRepo(agent: AgentClient, repo: RepoSpec, limits: CheckoutLimits, signal: AbortSignal): Promise<Resolved> {
  const scratch = await mkdtemp(path.join(tmpdir(), "ciab-repo-"));
  try {
    const mirror = path.join(scratch, "mirror.git");
    await withSizeLimit(scratch, limits.maxBytes, signal, (bounded) => clone(repo.url, mirror, scratch, limits.outbound, bounded));
    const resolved = await resolveRef(mirror, repo.ref, signal);
    const bundle = path.join(scratch, "repo.bundle");
    await git(["bundle", "create", "--quiet", bundle, "--all"], mirror, signal, "cannot bundle the repository");
    const bundleInSandbox = "/workspace/.ciab-repo.bundle";
    await agent.writeFile(bundleInSandbox, createReadStream(bundle), 0o600, signal);
    const checkout = resolved.branch
      ? `git checkout -q -B "$3" "$2" && git branch -q --set-upstream-to="origin/$3" "$3"`
      : `git checkout -q --detach "$2"`;
    // origin points at the real URL (without credentials) so the agent's branch tracks it; its refs come
    // from the bundle, since the sandbox has no network.
    const script = [
      "set -e",
      "cd /workspace",
      "git init -q",
      `git remote add origin "$4"`,
      `git fetch -q "$1" "+refs/heads/*:refs/remotes/origin/*" "+refs/tags/*:refs/tags/*"`,
      `rm -f "$1"`,
      checkout,
    ].join("\n");
    const result = await agent.exec(
      {
        command: ["sh", "-c", script, "checkout", bundleInSandbox, resolved.commit, resolved.branch ?? "", publicURL(repo.url)],
        timeoutMs: 10 * 60_000,
      },
      signal,
    );
    if (result.exitCode !== 0) {
      const output = redactCredentials(result.stderr.trim() || result.stdout.trim());
      throw new CiabError("runtime_error", `checking out ${redactCredentials(repo.url)} in the sandbox failed: ${output}`);
    }
    return resolved;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A remote is checked against the outbound policy and pinned to the checked address; a path on this host
 * was allowed (or not) by `[policy] allow_local_repos` when the session was made.
 */
async function clone(url: string, mirror: string, scratch: string, outbound: OutboundPolicy, signal: AbortSignal): Promise<void> {
  const remote = (await pinGitRemote(url, outbound)) ?? { url, config: [], sshOptions: [] };
  try {
    await git([...remote.config, "clone", "--quiet", "--mirror", "--", remote.url, mirror], scratch, signal, `cannot clone ${redactCredentials(url)}`, remote.sshOptions);
  } catch (error) {
    const stderr = String(((error as { cause?: { stderr?: string } }).cause ?? {}).stderr ?? "");
    if (isRedirectFailure(stderr)) throw refusal(gitRemoteHost(url) ?? "the repository");
    throw error;
  }
}

async function resolveRef(mirror: string, ref: string | undefined, signal: AbortSignal): Promise<Resolved> {
  if (ref === undefined) {
    const head = (await git(["symbolic-ref", "--quiet", "HEAD"], mirror, signal, "the repository has no default branch")).trim();
    const branch = head.replace(/^refs\/heads\//, "");
    return { branch, commit: (await git(["rev-parse", "--verify", `${head}^{commit}`], mirror, signal, `branch ${branch} is empty`)).trim() };
  }
  const asBranch = await git(["rev-parse", "--verify", "--quiet", `refs/heads/${ref}^{commit}`], mirror, signal).catch(() => "");
  if (asBranch.trim()) return { branch: ref, commit: asBranch.trim() };
  const commit = await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], mirror, signal).catch(() => "");
  if (!commit.trim()) throw new CiabError("invalid_request", `ref ${ref} is not a branch, tag or commit of the repository`);
  return { branch: undefined, commit: commit.trim() };
}

async function git(args: string[], cwd: string, signal: AbortSignal, failure?: string, sshOptions: string[] = []): Promise<string> {
  try {
    const { stdout } = await run("git", args, {
      cwd,
      signal,
      maxBuffer: 16 * 1024 * 1024,
      // Never prompt for credentials on the server's terminal; fail instead.
      env: isolatedGitEnvironment(cwd, sshOptions),
    });
    return stdout;
  } catch (error) {
    if (!failure) throw error;
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
    throw new CiabError("invalid_request", `${failure}: ${redactCredentials(stderr) || (error as Error).message}`, { cause: error });
  }
}

/** The origin remote inside the sandbox never carries credentials embedded in the URL. */
function publicURL(url: string): string {
  return redactCredentials(url);
}

/** Removes `user:secret@` from every URL in a text. */
export function redactCredentials(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s]+@/g, "$1");
}

/**
 * git as a stranger: no prompts, no user or system config (no credential helpers, no stored tokens), no
 * ssh keys or agent of the server's, and only plain transports (never `ext::`, which runs commands). A
 * private repository's credentials come with its URL, nowhere else.
 */
function isolatedGitEnvironment(scratch: string, sshOptions: string[]): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: scratch,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ALLOW_PROTOCOL: "https:http:ssh:git:file",
    GIT_SSH_COMMAND: ["ssh -F /dev/null -o IdentitiesOnly=yes -o IdentityFile=/dev/null -o BatchMode=yes -o IdentityAgent=none", ...sshOptions].join(" "),
  };
}
