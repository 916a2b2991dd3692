import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab, type SandboxHandle } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** What the control plane recorded for a sandbox's jail (the host's view, not the jail's). */
interface JailRecord {
  details: { pid: number; jailUID?: number; cgroups?: string[] };
}

/**
 * A tenant's jail attacking the host it runs on: host keyrings, bpf, perf events, ptrace, a fork bomb, a
 * memory hog, filling /tmp and /workspace. Each attack is refused or bounded, and the host goes on.
 */
describe("a jail on a root control plane", () => {
  let server: TestServer;
  let ciab: Ciab;
  beforeAll(async () => {
    server = await startTestServer({
      env: { CIAB_RUNTIME_LOCAL_TMP_SIZE_MB: "16", CIAB_RUNTIME_LOCAL_WORKSPACE_SIZE_MB: "64" },
    });
    ciab = new Ciab({ url: server.url, token: server.token });
  });
  afterAll(async () => server?.close());

  function record(sandbox: SandboxHandle): JailRecord {
    return JSON.parse(readFileSync(path.join(server.dataDirectory, "sandboxes", sandbox.id, "machine.json"), "utf8")) as JailRecord;
  }

  function cgroupProcesses(jail: JailRecord): number[] {
    const pids = new Set<number>();
    for (const directory of jail.details.cgroups ?? []) {
      for (const line of readFileSync(path.join(directory, "cgroup.procs"), "utf8").split("\n")) if (line) pids.add(Number(line));
    }
    return [...pids];
  }

  function hostStatus(pid: number): { name: string; uids: number[] } | undefined {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? "";
      const uids = (/^Uid:\s+(.*)$/m.exec(status)?.[1] ?? "").split(/\s+/).map(Number);
      return { name, uids };
    } catch {
      return undefined;
    }
  }

  test("its processes run under a host uid that is not 0, one uid per jail", async () => {
    const first = await ciab.sandboxes.create({ runtime: "local" });
    const second = await ciab.sandboxes.create({ runtime: "local" });
    try {
      expect((await first.commands.run(["setsid", "-f", "sleep", "300"])).exit_code).toBe(0);
      const jail = record(first);
      const statuses = cgroupProcesses(jail).map(hostStatus).filter((each) => each !== undefined);
      // Only the two bwrap monitors that set the jail up stay root, outside its user namespace.
      const jailed = statuses.filter((each) => each.name !== "bwrap");
      expect(jailed.map((each) => each.name)).toEqual(expect.arrayContaining(["node", "sleep"]));
      for (const each of jailed) expect(each.uids, each.name).toEqual([jail.details.jailUID, jail.details.jailUID, jail.details.jailUID, jail.details.jailUID]);
      expect(jail.details.jailUID).toBeGreaterThan(0);
      expect(record(second).details.jailUID).not.toBe(jail.details.jailUID);
      // Inside, it is root of its own namespace only.
      expect((await first.commands.run(["id", "-u"])).stdout.trim()).toBe("0");
    } finally {
      await first.delete();
      await second.delete();
    }
  });

  test.runIf(process.arch === "x64")("keyctl, add_key, request_key, bpf, perf_event_open, ptrace and unshare are refused", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "local" });
    try {
      const script = [
        "import ctypes",
        "libc = ctypes.CDLL(None, use_errno=True)",
        // x86_64 numbers: keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING), add_key, request_key, bpf,
        // perf_event_open, ptrace(PTRACE_ATTACH, 1), unshare(CLONE_NEWUSER).
        "calls = {'keyctl': (250, 0, -3, 0), 'add_key': (248, 0, 0, 0, 0, -3), 'request_key': (249, 0, 0, 0, 0), 'bpf': (321, 0, 0, 0), 'perf_event_open': (298, 0, 0, -1, -1, 0), 'ptrace': (101, 16, 1), 'unshare': (272, 0x10000000)}",
        "for name, call in calls.items():",
        "    print(name, libc.syscall(*call), ctypes.get_errno())",
      ].join("\n");
      const result = await sandbox.commands.run(["python3", "-c", script]);
      expect(result.stderr).toBe("");
      const lines = result.stdout.trim().split("\n");
      expect(lines).toEqual(["keyctl", "add_key", "request_key", "bpf", "perf_event_open", "ptrace", "unshare"].map((name) => `${name} -1 1`));
      // The same keyctl on the host succeeds: the refusal is the jail's filter, not the kernel's.
      const host = execFileSync("python3", ["-c", "import ctypes; print(ctypes.CDLL(None).syscall(250, 0, -3, 0) > 0)"], { encoding: "utf8" });
      expect(host.trim()).toBe("True");
    } finally {
      await sandbox.delete();
    }
  });

  test("the PTY, git and a shell still work under the filter", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "local" });
    try {
      const result = await sandbox.commands.run(["sh", "-c", "git init -q repo && cd repo && git -c user.email=a@b -c user.name=a commit -q --allow-empty -m x && git log --oneline | wc -l && script -qc tty /dev/null"]);
      expect(result.stdout.trim().split(/\s+/)).toEqual(["1", expect.stringMatching(/^\/dev\/pts\/\d+$/)]);
    } finally {
      await sandbox.delete();
    }
  });

  test("a fork bomb stops at the pids limit, the host goes on, and destroy ends it", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "local", resources: { pids: 64 } });
    const jail = record(sandbox);
    await sandbox.commands.run(["sh", "-c", "bomb() { bomb | bomb & }; bomb"], { timeout_ms: 3_000 }).catch(() => undefined);
    const pidsDirectory = jail.details.cgroups!.find((directory) => existsSync(path.join(directory, "pids.max")))!;
    expect(readFileSync(path.join(pidsDirectory, "pids.max"), "utf8").trim()).toBe("64");
    expect(Number(readFileSync(path.join(pidsDirectory, "pids.current"), "utf8"))).toBeLessThanOrEqual(64);
    expect(readFileSync(path.join(pidsDirectory, "pids.events"), "utf8")).toMatch(/^max [1-9]/m);
    expect(execFileSync("sh", ["-c", "echo host-alive"], { encoding: "utf8" }).trim()).toBe("host-alive");
    const started = performance.now();
    await sandbox.delete();
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(existsSync(pidsDirectory)).toBe(false);
  });

  test("a memory hog is killed at the memory limit and the jail goes on", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "local", resources: { memory_mb: 160 } });
    try {
      const hog = await sandbox.commands.run(["python3", "-c", "data = bytearray(1024 * 1024 * 1024); print('survived')"]);
      expect(hog.stdout).not.toContain("survived");
      expect(hog.signal === "SIGKILL" || hog.exit_code === 137, JSON.stringify(hog)).toBe(true);
      expect((await sandbox.commands.run(["true"])).exit_code).toBe(0);
    } finally {
      await sandbox.delete();
    }
  });

  test("/tmp, /dev/shm and /run/ciab fill up at their size, /workspace at its quota, each with ENOSPC", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "local" });
    try {
      for (const [file, megabytes] of [["/tmp/fill", 16], ["/dev/shm/fill", 16], ["/run/ciab/fill", 64], ["/workspace/fill", 64]] as const) {
        const result = await sandbox.commands.run(["dd", "if=/dev/zero", `of=${file}`, "bs=1M", `count=${megabytes * 2}`]);
        expect(result.exit_code, file).not.toBe(0);
        expect(result.stderr, file).toContain("No space left on device");
        const size = await sandbox.commands.run(["stat", "-c", "%s", file]);
        expect(Number(size.stdout), file).toBeLessThanOrEqual(megabytes * 1024 * 1024);
        await sandbox.commands.run(["rm", file]);
      }
      // /dev itself takes no files.
      expect((await sandbox.commands.run(["sh", "-c", "echo x > /dev/planted"])).stderr).toContain("Read-only file system");
    } finally {
      await sandbox.delete();
    }
  });
});
