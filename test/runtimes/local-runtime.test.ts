import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { pino } from "pino";
import { localRuntimeSchema, type LocalRuntimeConfig } from "../../packages/server/src/config/config-schema.js";
import { createLocalRuntime } from "../../packages/server/src/runtimes/local/index.js";
import { writeLocalMachine } from "../../packages/server/src/runtimes/local/local-machine-file.js";
import { isSameProcessAlive, listDescendants, listJailProcesses, readProcessStat, waitUntil } from "../../packages/server/src/runtimes/local/process-tree.js";
import type { Machine } from "../../packages/server/src/runtimes/runtime.js";
import { waitForHealth } from "./agent-health.js";
import { conformanceTests, interfaceNames, newSpec, runtimeConformance } from "./runtime-conformance.js";
import { testDependencies } from "./test-dependencies.js";

const bwrapDependencies = testDependencies("local");
const unconfinedDependencies = testDependencies("local-none");
const bwrapConfig: LocalRuntimeConfig = localRuntimeSchema.parse({ isolation: "bwrap", network: "none", workspace_size_mb: 64 });
const unconfinedConfig: LocalRuntimeConfig = { ...bwrapConfig, isolation: "none" };
afterAll(() => {
  bwrapDependencies.removeDataDirectory();
  unconfinedDependencies.removeDataDirectory();
});

/** The agentd process of a jail: the descendant of the jail's pid that runs the bundle. */
async function agentdProcessID(machine: Machine): Promise<number> {
  for (const process of await listDescendants(Number(machine.details.pid))) {
    const commandLine = await readFile(`/proc/${process.pid}/cmdline`, "utf8").catch(() => "");
    if (commandLine.includes("agentd.mjs")) return process.pid;
  }
  throw new Error(`no agentd under pid ${String(machine.details.pid)}`);
}

async function networkInterfaces(machine: Machine): Promise<string[]> {
  return interfaceNames(await readFile(`/proc/${await agentdProcessID(machine)}/net/dev`, "utf8"));
}

runtimeConformance({
  name: "local (bwrap)",
  create: async () => {
    const runtime = createLocalRuntime(bwrapConfig, bwrapDependencies);
    return { runtime, cleanup: () => runtime.close() };
  },
  networkInterfaces,
});

runtimeConformance({
  name: "local (isolation none)",
  create: async () => {
    const runtime = createLocalRuntime(unconfinedConfig, unconfinedDependencies);
    return { runtime, cleanup: () => runtime.close() };
  },
  skip: [{ reason: "without a jail agentd shares the host's network", tests: [conformanceTests.network] }],
});

describe("local runtime", () => {
  const signal = () => AbortSignal.timeout(30_000);

  test("the jail shows neither home dirs, the data dir nor /etc/shadow", async () => {
    const runtime = createLocalRuntime(bwrapConfig, bwrapDependencies);
    const machine = await runtime.provision(newSpec(), { signal: signal() });
    try {
      await waitForHealth(runtime, machine);
      // /proc/<pid>/root is the jail's root as its processes see it.
      const root = `/proc/${await agentdProcessID(machine)}/root`;
      for (const hidden of ["/root", "/home", "/etc/shadow", "/etc/sudoers", bwrapDependencies.dataDirectory]) {
        expect(existsSync(`${root}${hidden}`), hidden).toBe(false);
      }
      for (const shown of ["/workspace", "/etc/passwd", "/usr/bin", "/opt/ciab/node", "/run/ciab/agentd.sock"]) {
        expect(existsSync(`${root}${shown}`), shown).toBe(true);
      }
    } finally {
      await runtime.destroy(machine, signal());
    }
  });

  test("destroy kills a jail whose bwrap root already died", async () => {
    const runtime = createLocalRuntime(bwrapConfig, bwrapDependencies);
    const machine = await runtime.provision(newSpec(), { signal: signal() });
    await waitForHealth(runtime, machine);
    const agentd = await readProcessStat(await agentdProcessID(machine));
    // Killing the root alone leaves the jail's pid-namespace init and agentd running, reparented.
    process.kill(Number(machine.details.pid), "SIGKILL");
    await waitUntil(async () => !(await isSameProcessAlive(Number(machine.details.pid), Number(machine.details.startTime))), 2_000);
    expect(await isSameProcessAlive(agentd?.pid ?? 0, agentd?.startTime ?? 0)).toBe(true);
    await runtime.destroy(machine, signal());
    expect(await isSameProcessAlive(agentd?.pid ?? 0, agentd?.startTime ?? 0)).toBe(false);
  });

  test("destroy right after provision leaves no process behind", async () => {
    const runtime = createLocalRuntime(bwrapConfig, bwrapDependencies);
    for (let round = 0; round < 5; round++) {
      const machine = await runtime.provision(newSpec(), { signal: signal() });
      await runtime.destroy(machine, signal());
      const left = await listJailProcesses(Number(machine.details.pid), Number(machine.details.startTime));
      expect(left.filter((each) => each.state !== "Z")).toEqual([]);
    }
  });

  // A sandbox dir lost with its machine.json: the jail is still found by the cgroup the control plane made.
  describe.each([
    { name: "bwrap", config: bwrapConfig, dependencies: bwrapDependencies },
    { name: "isolation none", config: unconfinedConfig, dependencies: unconfinedDependencies },
  ])("a jail whose machine.json is lost ($name)", ({ config, dependencies }) => {
    test("is listed by its cgroup and destroyed", async () => {
      const runtime = createLocalRuntime(config, dependencies);
      const spec = newSpec();
      const machine = await runtime.provision(spec, { signal: signal() });
      await waitForHealth(runtime, machine);
      await rm(path.join(String(machine.details.sandboxDirectory), "machine.json"));
      const processes = await listJailProcesses(Number(machine.details.pid), Number(machine.details.startTime));
      expect(processes.length).toBeGreaterThan(config.isolation === "bwrap" ? 2 : 0);

      const listed = (await runtime.listManaged(signal())).filter((each) => each.sandboxID === spec.sandboxID);
      expect(listed).toMatchObject([{ machineID: `cgroup-${spec.sandboxID}`, state: "running" }]);
      // Only what the listing says: the reconciler destroys the machine it was given, not the one provision returned.
      await runtime.destroy({ machineID: listed[0]!.machineID, sandboxID: spec.sandboxID, details: listed[0]!.details }, signal());
      for (const each of processes) expect(await isSameProcessAlive(each.pid, each.startTime), `pid ${each.pid}`).toBe(false);
      expect(existsSync(String(machine.details.sandboxDirectory))).toBe(false);
      expect((await runtime.listManaged(signal())).filter((each) => each.sandboxID === spec.sandboxID)).toEqual([]);
    });
  });

  test("a provisional machine.json is listed stopped and destroyed", async () => {
    const runtime = createLocalRuntime(bwrapConfig, bwrapDependencies);
    const spec = newSpec();
    const directory = path.join(bwrapDependencies.dataDirectory, "sandboxes", spec.sandboxID);
    await mkdir(directory, { recursive: true });
    await writeLocalMachine(path.join(directory, "machine.json"), {
      provisional: true,
      sandboxID: spec.sandboxID,
      installationID: bwrapDependencies.installationID,
      isolation: "bwrap",
    });
    const listed = (await runtime.listManaged(signal())).filter((each) => each.sandboxID === spec.sandboxID);
    expect(listed).toMatchObject([{ state: "stopped" }]);
    await runtime.destroy({ machineID: listed[0]!.machineID, sandboxID: spec.sandboxID, details: listed[0]!.details }, signal());
    expect(existsSync(directory)).toBe(false);
  });

  test("refuses images", async () => {
    const runtime = createLocalRuntime(bwrapConfig, bwrapDependencies);
    await expect(runtime.provision(newSpec({ image: "ubuntu:24.04" }), { signal: signal() })).rejects.toMatchObject({
      code: "capability_unsupported",
    });
  });

  test("warns that isolation is off", () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    createLocalRuntime(unconfinedConfig, { ...unconfinedDependencies, logger });
    expect(lines.join("")).toContain("isolation is off: sandbox processes run unconfined on this host");
  });

  test("connectAgent rejects at once, retryably, while agentd is not listening", async () => {
    const runtime = createLocalRuntime(bwrapConfig, bwrapDependencies);
    // A live pid (this test's own) with no socket: what a jail looks like before agentd binds.
    const own = await readProcessStat(process.pid);
    const machine: Machine = {
      machineID: String(process.pid),
      sandboxID: newSpec().sandboxID,
      details: { pid: process.pid, startTime: own?.startTime },
    };
    const started = performance.now();
    await expect(runtime.connectAgent(machine)).rejects.toMatchObject({ code: "agent_unreachable", retryable: true });
    expect(performance.now() - started).toBeLessThan(100);
  });

  test("a jail that exits at once is reported, not waited for", async () => {
    const runtime = createLocalRuntime({ ...bwrapConfig }, { ...bwrapDependencies, agentdBundlePath: "/nonexistent/agentd.mjs" });
    const error = await runtime.provision(newSpec(), { signal: signal() }).then(
      async (machine) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const result = await runtime.connectAgent(machine).catch((reason: unknown) => reason);
        await runtime.destroy(machine, signal());
        return result;
      },
      (reason: unknown) => reason,
    );
    expect(error).toMatchObject({ code: "runtime_error" });
  });
});
