import { lstat, readdir, readlink, stat } from "node:fs/promises";
import path from "node:path";
import { CiabError, agentSocketDirectory } from "@ciab/protocol";
import {
  agentdCommand,
  besideBundle,
  machineAgentdPath,
  machineArtifactCommandPath,
  machineNodePath,
  machineNodeBinDirectory,
  machineProfileSnippetPath,
  machineToolsPath,
  machinePath,
  machineWorkspace,
} from "./machine-layout.js";

/** Top-level system dirs a jail sees read-only; `/usr` is always bound, the rest when the host has them. */
export const systemDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] as const;

/**
 * The only entries of the host's /etc a jail sees: what name resolution, TLS, the dynamic linker, locales
 * and shells need. Everything else (shadow, sudoers, ssh keys, docker config…) stays out.
 */
export const etcAllowList = [
  "passwd",
  "group",
  "hosts",
  "host.conf",
  "resolv.conf",
  "nsswitch.conf",
  "gai.conf",
  "protocols",
  "services",
  "ssl",
  "ca-certificates",
  "ca-certificates.conf",
  "pki",
  "alternatives",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "localtime",
  "timezone",
  "os-release",
  "debian_version",
  "profile",
  "profile.d",
  "bash.bashrc",
  "inputrc",
  "environment",
  "gitconfig",
  "mime.types",
  "magic",
  "locale.alias",
] as const;

/** What the host offers to bind, gathered once by `inspectHostLayout`; keeps the builder pure. */
export interface HostLayout {
  /** System dirs that exist on the host; `symlinkTarget` set when the host has a symlink (merged /usr). */
  systemEntries: { path: string; symlinkTarget?: string }[];
  /** Names from `etcAllowList` that exist on the host. */
  etcEntries: string[];
  /**
   * Files in the host's /etc/profile.d. They are bound one by one into a dir of the jail's own, so that
   * ciab's PATH snippet can sit beside them (a bound host dir is read-only and takes no new file).
   */
  profileScripts?: string[];
}

export interface BwrapArgumentsInput {
  host: HostLayout;
  /** The sandbox's host dir holding `workspace/` and `run/`. */
  sandboxDirectory: string;
  agentdBundlePath: string;
  nodeBinaryPath: string;
  toolsDirectory: string;
  sandboxID: string;
  hostname: string;
  network: "none" | "host";
  /** Size of the jail's `/tmp` and of `/dev/shm`, the only writable places besides `/workspace`. */
  tmpSizeBytes: number;
  /** The fd (in bwrap's process) from which the seccomp program of `seccomp-filter.ts` is read. */
  seccompFD: number;
  /** The fd from which the bwrap that starts agentd reads `environmentArguments`. */
  environmentFD: number;
  /**
   * Present when the control plane runs as root: the jail's host uid (and gid). The outer bwrap then runs
   * as root, lays out the jail's file system (so no host dir needs opening to that uid), and runs an inner
   * bwrap under `setpriv` as this uid, which adds the user namespace (its uid 0 is this uid on the host).
   * Absent: bwrap runs as the server's own non-root user and makes the user namespace itself.
   */
  jailUser: { uid: number; bwrapPath: string } | undefined;
}

/**
 * The bwrap argv (without bwrap itself) of a sandbox jail. No `--die-with-parent`: a jail outlives the
 * control plane that started it. The environment is not in it: see `environmentArguments`.
 */
export function bwrapArguments(input: BwrapArgumentsInput): string[] {
  // bwrap run by root makes missing mount points 0700 and root's; the jail's uid must see through them.
  const args = ["/etc", "/run", "/opt", path.posix.dirname(machineNodeBinDirectory), machineNodeBinDirectory].flatMap((directory) => [
    "--perms",
    "0755",
    "--dir",
    directory,
  ]);
  for (const entry of input.host.systemEntries) {
    if (entry.symlinkTarget !== undefined) args.push("--symlink", entry.symlinkTarget, entry.path);
    else args.push("--ro-bind", entry.path, entry.path);
  }
  for (const name of input.host.etcEntries) {
    if (name === "profile.d") continue;
    args.push("--ro-bind", path.posix.join("/etc", name), path.posix.join("/etc", name));
  }
  args.push("--dir", "/etc/profile.d");
  for (const name of input.host.profileScripts ?? []) {
    args.push("--ro-bind", path.posix.join("/etc/profile.d", name), path.posix.join("/etc/profile.d", name));
  }
  const beside = besideBundle(input.agentdBundlePath);
  args.push("--ro-bind", beside.profileSnippet, machineProfileSnippetPath);
  args.push(
    "--bind",
    path.join(input.sandboxDirectory, "workspace"),
    machineWorkspace,
    "--bind",
    path.join(input.sandboxDirectory, "run"),
    agentSocketDirectory,
    "--ro-bind",
    input.agentdBundlePath,
    machineAgentdPath,
    "--ro-bind",
    input.nodeBinaryPath,
    machineNodePath,
    "--ro-bind",
    input.nodeBinaryPath,
    path.posix.join(machineNodeBinDirectory, "node"),
    "--ro-bind",
    beside.artifactCommand,
    machineArtifactCommandPath,
    "--ro-bind",
    input.toolsDirectory,
    machineToolsPath,
    "--perms",
    "1777",
    "--size",
    String(input.tmpSizeBytes),
    "--tmpfs",
    "/tmp",
    "--proc",
    "/proc",
    // The jail's root has no capabilities, but sysctl writes are checked by uid alone: without this a
    // jail could set kernel.core_pattern and run a program as root on the host.
    "--ro-bind",
    "/proc/sys",
    "/proc/sys",
    "--dev",
    "/dev",
    // /dev is read-only but for its device nodes and pts, so its only writable part is the sized shm.
    "--perms",
    "1777",
    "--size",
    String(input.tmpSizeBytes),
    "--tmpfs",
    "/dev/shm",
    "--remount-ro",
    "/dev",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--hostname",
    input.hostname,
  );
  if (input.network === "none") args.push("--unshare-net");
  // The env reaches agentd only through the bwrap that starts it, read from an fd: argv is world-readable in
  // /proc and spec.env may hold secrets, and what runs before (the gate's shell, the outer bwrap and setpriv,
  // on the host and as root) must not run with a tenant's PATH, LD_PRELOAD or BASH_ENV.
  // No --new-session: the runtime spawns bwrap detached, so the jail already runs in a session of its own
  // with no controlling terminal (nothing for TIOCSTI to reach), and keeping every jail process in that
  // session, led by the root's pid, lets destroy find the jail's pid-1 after the root itself died.
  const seccomp = ["--seccomp", String(input.seccompFD), "--clearenv", "--args", String(input.environmentFD)];
  if (input.jailUser === undefined) {
    args.push(...seccomp, "--cap-drop", "ALL", "--chdir", machineWorkspace, "--", ...agentdCommand(input.sandboxID));
    return args;
  }
  // The outer bwrap keeps only what setpriv needs to drop to the jail's uid; setpriv's setuid clears even that.
  const { uid, bwrapPath } = input.jailUser;
  args.push("--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--");
  args.push("setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--");
  args.push(bwrapPath, "--unshare-user", "--uid", "0", "--gid", "0", "--dev-bind", "/", "/", ...seccomp, "--cap-drop", "ALL");
  args.push("--chdir", machineWorkspace, "--", ...agentdCommand(input.sandboxID));
  return args;
}

/**
 * `--setenv NAME VALUE` for every variable of `env`, NUL-separated as bwrap's `--args` reads them. A NUL
 * inside a value would split it into more arguments, so it is refused (no environment can hold one anyway).
 */
export function environmentArguments(env: Record<string, string>): Buffer {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (name.includes("\0") || value.includes("\0") || name.includes("=")) {
      throw new CiabError("invalid_request", `environment variable ${JSON.stringify(name)} holds a NUL byte or its name an =`);
    }
    parts.push("--setenv", name, value);
  }
  return Buffer.from(parts.map((part) => `${part}\0`).join(""));
}

/** The whole environment agentd starts with in a jail: a few basics, then the sandbox's own variables. */
export function machineEnvironment(env: Record<string, string>): Record<string, string> {
  return { PATH: machinePath, HOME: machineWorkspace, TERM: "xterm-256color", LANG: "C.UTF-8", ...env };
}

/** Reads which system dirs and allowed /etc entries the host has. */
export async function inspectHostLayout(): Promise<HostLayout> {
  const systemEntries = await Promise.all(
    systemDirectories.map(async (directory) => {
      const entry = await lstat(directory).catch(() => undefined);
      if (entry === undefined) return undefined;
      if (entry.isSymbolicLink()) return { path: directory, symlinkTarget: await readlink(directory) };
      return entry.isDirectory() ? { path: directory } : undefined;
    }),
  );
  const etcEntries = await Promise.all(
    etcAllowList.map(async (name) => // stat, not lstat: a dangling symlink (resolv.conf into an absent /run) would make bwrap fail.
      ((await stat(path.join("/etc", name)).catch(() => undefined)) ? name : undefined)),
  );
  const profileScripts = await readdir("/etc/profile.d").catch(() => [] as string[]);
  return {
    systemEntries: systemEntries.filter((entry) => entry !== undefined),
    etcEntries: etcEntries.filter((name) => name !== undefined),
    profileScripts: profileScripts.filter((name) => !name.startsWith(".") && name !== path.posix.basename(machineProfileSnippetPath)),
  };
}
