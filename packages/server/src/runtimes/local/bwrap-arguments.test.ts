import { describe, expect, test } from "vitest";
import { bwrapArguments, environmentArguments, etcAllowList, machineEnvironment, type HostLayout } from "./bwrap-arguments.js";

const mergedUsr: HostLayout = {
  systemEntries: [
    { path: "/usr" },
    { path: "/bin", symlinkTarget: "usr/bin" },
    { path: "/lib", symlinkTarget: "usr/lib" },
    { path: "/lib64", symlinkTarget: "usr/lib64" },
  ],
  etcEntries: ["passwd", "group", "resolv.conf", "ssl"],
};
const input = {
  host: mergedUsr,
  sandboxDirectory: "/var/lib/ciab/sandboxes/sbx_1",
  agentdBundlePath: "/opt/ciab-src/agentd.mjs",
  nodeBinaryPath: "/usr/local/bin/node",
  toolsDirectory: "/var/cache/ciab/tools",
  sandboxID: "sbx_unit1",
  hostname: "ciab-abc",
  network: "none" as const,
  tmpSizeBytes: 1024 * 1024 * 1024,
  seccompFD: 4,
  environmentFD: 5,
  jailUser: undefined,
};

/** Pairs `[source, destination]` of every mount option of one kind. */
function mounts(args: string[], option: string): [string, string][] {
  const pairs: [string, string][] = [];
  args.forEach((arg, index) => {
    if (arg === option) pairs.push([args[index + 1] ?? "", args[index + 2] ?? ""]);
  });
  return pairs;
}

describe("bwrapArguments", () => {
  const args = bwrapArguments(input);
  const options = args.slice(0, args.indexOf("--"));

  test("binds /usr read-only and mirrors merged-/usr symlinks", () => {
    expect(mounts(options, "--ro-bind")).toContainEqual(["/usr", "/usr"]);
    expect(mounts(options, "--symlink")).toContainEqual(["usr/bin", "/bin"]);
    expect(mounts(options, "--symlink")).toContainEqual(["usr/lib64", "/lib64"]);
  });

  test("binds a system dir that is a real dir on the host", () => {
    const split = bwrapArguments({ ...input, host: { ...mergedUsr, systemEntries: [{ path: "/usr" }, { path: "/lib" }] } });
    expect(mounts(split, "--ro-bind")).toContainEqual(["/lib", "/lib"]);
  });

  test("shows /etc only through the allow-list", () => {
    const etc = [...mounts(options, "--ro-bind"), ...mounts(options, "--bind")].filter(([, to]) => to.startsWith("/etc"));
    // Plus ciab's PATH snippet for login shells, which comes from beside the agentd bundle, not from the host.
    expect(etc.map(([, to]) => to).sort()).toEqual(["/etc/group", "/etc/passwd", "/etc/profile.d/zz-ciab-path.sh", "/etc/resolv.conf", "/etc/ssl"]);
    expect(etc.find(([, to]) => to === "/etc/profile.d/zz-ciab-path.sh")?.[0]).toBe("/opt/ciab-src/ciab-path.sh");
    expect(etcAllowList).not.toContain("shadow");
    expect(etcAllowList).not.toContain("sudoers");
  });

  test("never mounts home dirs, the data dir or the whole /etc", () => {
    const sources = ["--bind", "--ro-bind", "--dev-bind"].flatMap((option) => mounts(options, option).map(([from]) => from));
    for (const source of sources) {
      expect(source).not.toMatch(/^\/(root|home)(\/|$)/);
      expect(source).not.toBe("/etc");
      expect(source).not.toBe("/");
      expect(source === "/var/lib/ciab" || source === "/var/lib/ciab/sandboxes/sbx_1").toBe(false);
    }
  });

  test("mounts the workspace, the socket dir, agentd and node", () => {
    expect(mounts(options, "--bind")).toEqual([
      ["/var/lib/ciab/sandboxes/sbx_1/workspace", "/workspace"],
      ["/var/lib/ciab/sandboxes/sbx_1/run", "/run/ciab"],
    ]);
    expect(mounts(options, "--ro-bind")).toContainEqual(["/opt/ciab-src/agentd.mjs", "/opt/ciab/agentd.mjs"]);
    expect(mounts(options, "--ro-bind")).toContainEqual(["/usr/local/bin/node", "/opt/ciab/node"]);
  });

  test("unshares pid, ipc, uts and, for network none, the network", () => {
    for (const flag of ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--cap-drop"]) {
      expect(options).toContain(flag);
    }
    expect(options.join(" ")).toContain("--hostname ciab-abc");
    expect(options.join(" ")).toContain("--tmpfs /tmp --proc /proc --ro-bind /proc/sys /proc/sys --dev /dev");
    expect(bwrapArguments({ ...input, network: "host" })).not.toContain("--unshare-net");
  });

  test("sizes /tmp and /dev/shm, leaves /dev read-only, and applies the seccomp filter", () => {
    const joined = options.join(" ");
    expect(joined).toContain("--perms 1777 --size 1073741824 --tmpfs /tmp");
    expect(joined).toContain("--perms 1777 --size 1073741824 --tmpfs /dev/shm --remount-ro /dev");
    expect(joined).toContain("--seccomp 4 --clearenv --args 5 --cap-drop ALL");
    // Dirs bwrap makes as root would be 0700: a jail uid could not see through them.
    expect(joined).toContain("--perms 0755 --dir /etc");
    expect(joined).toContain("--perms 0755 --dir /opt/ciab/bin");
  });

  test("as root: the outer bwrap lays out the jail, setpriv drops to the jail's uid, the inner bwrap adds the user namespace", () => {
    const nested = bwrapArguments({ ...input, jailUser: { uid: 2_000_000_042, bwrapPath: "bwrap" } });
    const outer = nested.slice(0, nested.indexOf("--"));
    expect(outer.join(" ")).toContain("--cap-drop ALL --cap-add CAP_SETUID --cap-add CAP_SETGID");
    expect(outer).not.toContain("--seccomp");
    const inner = nested.slice(nested.indexOf("--") + 1);
    expect(inner.slice(0, 5)).toEqual(["setpriv", "--reuid=2000000042", "--regid=2000000042", "--clear-groups", "--"]);
    const innerBwrap = inner.slice(5, inner.indexOf("--", 5));
    expect(innerBwrap.join(" ")).toBe("bwrap --unshare-user --uid 0 --gid 0 --dev-bind / / --seccomp 4 --clearenv --args 5 --cap-drop ALL --chdir /workspace");
    expect(inner.slice(inner.indexOf("--", 5) + 1)[0]).toBe("/opt/ciab/node");
  });

  test("lets the jail outlive the control plane and keeps it in the session of the detached root", () => {
    expect(options).not.toContain("--die-with-parent");
    expect(options).not.toContain("--new-session");
  });

  test("runs agentd in /workspace on the socket in /run/ciab", () => {
    expect(options.join(" ")).toContain("--chdir /workspace");
    expect(args.slice(args.indexOf("--") + 1)).toEqual([
      "/opt/ciab/node",
      "/opt/ciab/agentd.mjs",
      "--socket",
      "/run/ciab/agentd.sock",
      "--workspace-root",
      "/workspace",
      "--gateway-socket",
      "/run/ciab/gateway.sock",
      "--sandbox-id",
      "sbx_unit1",
    ]);
  });
});

describe("machineEnvironment", () => {
  test("sets the basics and lets the sandbox's variables win", () => {
    expect(machineEnvironment({ TOKEN: "secret", LANG: "de_DE.UTF-8" })).toEqual({
      PATH: "/opt/ciab/tools/node_modules/.bin:/opt/ciab/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: "/workspace",
      TERM: "xterm-256color",
      LANG: "de_DE.UTF-8",
      TOKEN: "secret",
    });
  });

  test("keeps values out of argv, which any host user can read", () => {
    expect(bwrapArguments(input).join(" ")).not.toContain("secret");
  });

  test("travels as NUL-separated --setenv arguments, and a NUL inside a value is refused", () => {
    expect(environmentArguments({ A: "1 2", B: "" }).toString().split("\u0000")).toEqual(["--setenv", "A", "1 2", "--setenv", "B", "", ""]);
    expect(() => environmentArguments({ A: "x\u0000--bind\u0000/\u0000/host" })).toThrow(/NUL/);
  });
});
