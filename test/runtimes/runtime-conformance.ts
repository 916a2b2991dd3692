import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, test as base } from "vitest";
import type { Machine, MachineSpec, Runtime } from "../../packages/server/src/runtimes/runtime.js";
import { getHealth, waitForHealth } from "./agent-health.js";

export const conformanceTests = {
  health: "provisions a machine whose agentd answers health",
  listed: "lists the machine with its sandbox id",
  pause: "pause freezes agentd and resume thaws it",
  destroy: "destroy removes the machine and can be repeated",
  restart: "a restarted control plane reaches the machine from the persisted Machine",
  network: "network none leaves loopback only",
  timing: "create-to-ready time",
} as const;
export type ConformanceTest = (typeof conformanceTests)[keyof typeof conformanceTests];

export interface RuntimeConformanceOptions {
  name: string;
  /**
   * Makes a runtime. Every call must use the same config and dependencies (the same data dir), so that a
   * second call plays a restarted control plane.
   */
  create: () => Promise<{ runtime: Runtime; cleanup: () => Promise<void> }>;
  /** Network interface names seen inside the machine (e.g. from /proc/<pid>/net/dev on the host). */
  networkInterfaces?: (machine: Machine) => Promise<string[]>;
  skip?: { reason: string; tests: ConformanceTest[] }[];
}

interface Fixtures {
  runtime: Runtime;
  /** Provisions a machine that the fixture destroys after the test. */
  provision: (spec?: Partial<MachineSpec>) => Promise<Machine>;
}

const signal = () => AbortSignal.timeout(120_000);

export function newSpec(overrides: Partial<MachineSpec> = {}): MachineSpec {
  const sandboxID = `sbx_test${randomBytes(6).toString("hex")}`;
  return {
    sandboxID,
    name: sandboxID.replace("_", "-"),
    image: undefined,
    env: { CIAB_TEST: "1" },
    resources: {},
    network: "none",
    ...overrides,
  };
}

/** Interface names in a /proc/<pid>/net/dev text (two header lines, then `name: counters`). */
export function interfaceNames(netDev: string): string[] {
  return netDev
    .split("\n")
    .slice(2)
    .map((line) => line.split(":")[0]?.trim() ?? "")
    .filter(Boolean);
}

/** One suite every backend passes (STYLE rule 16); each backend's skips are listed with reasons. */
export function runtimeConformance(options: RuntimeConformanceOptions): void {
  const skipped = new Map<string, string>();
  for (const entry of options.skip ?? []) for (const name of entry.tests) skipped.set(name, entry.reason);

  const test = base.extend<Fixtures>({
    runtime: async ({}, use) => {
      const { runtime, cleanup } = await options.create();
      await use(runtime);
      await cleanup();
    },
    provision: async ({ runtime }, use) => {
      const machines: Machine[] = [];
      await use(async (spec) => {
        const machine = await runtime.provision(newSpec(spec), { signal: signal() });
        machines.push(machine);
        return machine;
      });
      for (const machine of machines) await runtime.destroy(machine, signal());
    },
  });
  const conformance = (name: ConformanceTest, body: (fixtures: Fixtures) => Promise<void>) => {
    const reason = skipped.get(name);
    // Vitest sets up the fixtures a test destructures, so the wrapper names both.
    const run = async ({ runtime, provision }: Fixtures) => body({ runtime, provision });
    if (reason === undefined) test(name, run);
    else test.skip(`${name} (skipped: ${reason})`, run);
  };

  describe(`runtime conformance: ${options.name}`, () => {
    conformance(conformanceTests.health, async ({ runtime, provision }) => {
      const machine = await provision();
      const health = await waitForHealth(runtime, machine);
      expect(health.status).toBe(200);
    });

    conformance(conformanceTests.listed, async ({ runtime, provision }) => {
      const machine = await provision();
      const managed = await runtime.listManaged(signal());
      const found = managed.find((each) => each.machineID === machine.machineID);
      expect(found?.sandboxID).toBe(machine.sandboxID);
      expect(found?.state).toBe("running");
    });

    conformance(conformanceTests.pause, async ({ runtime, provision }) => {
      const machine = await provision();
      await waitForHealth(runtime, machine);
      await runtime.pause(machine, signal());
      const paused = (await runtime.listManaged(signal())).find((each) => each.machineID === machine.machineID);
      expect(paused?.state).toBe("paused");
      // The kernel may still accept the connection (a frozen agentd never answers on it), or the machine
      // refuses it outright (a stopped instance).
      await expect(runtime.connectAgent(machine).then((duplex) => getHealth(duplex, 300))).rejects.toThrow();
      await runtime.resume(machine, signal());
      expect((await waitForHealth(runtime, machine)).status).toBe(200);
      const resumed = (await runtime.listManaged(signal())).find((each) => each.machineID === machine.machineID);
      expect(resumed?.state).toBe("running");
    });

    conformance(conformanceTests.destroy, async ({ runtime }) => {
      const machine = await runtime.provision(newSpec(), { signal: signal() });
      await waitForHealth(runtime, machine);
      // A paused machine is the hardest to remove; destroy must not need a resume first.
      if (runtime.capabilities.pause) await runtime.pause(machine, signal());
      await runtime.destroy(machine, signal());
      const managed = await runtime.listManaged(signal());
      expect(managed.map((each) => each.machineID)).not.toContain(machine.machineID);
      await runtime.destroy(machine, signal());
      await expect(runtime.connectAgent(machine)).rejects.toThrow();
    });

    conformance(conformanceTests.restart, async ({ runtime, provision }) => {
      const machine = await provision();
      await waitForHealth(runtime, machine);
      // Only what a store would keep crosses over: the Machine as JSON.
      const persisted = JSON.parse(JSON.stringify(machine)) as Machine;
      const restarted = await options.create();
      try {
        expect((await waitForHealth(restarted.runtime, persisted)).status).toBe(200);
        const managed = await restarted.runtime.listManaged(signal());
        expect(managed.find((each) => each.machineID === machine.machineID)?.sandboxID).toBe(machine.sandboxID);
      } finally {
        await restarted.cleanup();
      }
    });

    conformance(conformanceTests.network, async ({ runtime, provision }) => {
      if (options.networkInterfaces === undefined) throw new Error("networkInterfaces is not given");
      const machine = await provision({ network: "none" });
      await waitForHealth(runtime, machine);
      expect(await options.networkInterfaces(machine)).toEqual(["lo"]);
    });

    conformance(conformanceTests.timing, async ({ runtime }) => {
      const times: number[] = [];
      for (let round = 0; round < 7; round++) {
        const started = performance.now();
        const machine = await runtime.provision(newSpec(), { signal: signal() });
        try {
          await waitForHealth(runtime, machine);
          times.push(performance.now() - started);
        } finally {
          await runtime.destroy(machine, signal());
        }
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)] ?? Number.NaN;
      timings.push(`${options.name}: create-to-ready p50 ${median.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(", ")})`);
    });

    afterAll(() => {
      for (const line of timings) console.log(line);
      timings.length = 0;
    });
  });
}

const timings: string[] = [];
