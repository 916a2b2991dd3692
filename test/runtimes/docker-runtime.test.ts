import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import Docker from "dockerode";
import { afterAll, describe, expect, test } from "vitest";
import type { DockerRuntimeConfig } from "../../packages/server/src/config/config-schema.js";
import { buildDefaultImage, createDockerRuntime } from "../../packages/server/src/runtimes/docker/index.js";
import type { Machine } from "../../packages/server/src/runtimes/runtime.js";
import { waitForHealth } from "./agent-health.js";
import { interfaceNames, newSpec, runtimeConformance } from "./runtime-conformance.js";
import { testDependencies } from "./test-dependencies.js";

// Tests may talk to the engine directly to look at what the runtime made; the runtime itself never does.
const docker = new Docker({ socketPath: "/var/run/docker.sock" });
const dependencies = testDependencies("docker");
const config: DockerRuntimeConfig = {
  socket_path: "/var/run/docker.sock",
  default_image: "ciab/default:bookworm",
  build_default_image: true,
  network: "none",
  default_memory_mb: 4096,
  default_pids: 4096,
};
afterAll(() => dependencies.removeDataDirectory());

async function networkInterfaces(machine: Machine): Promise<string[]> {
  const { State } = await docker.getContainer(machine.machineID).inspect();
  return interfaceNames(await readFile(`/proc/${State.Pid}/net/dev`, "utf8"));
}

runtimeConformance({
  name: "docker",
  create: async () => {
    const runtime = createDockerRuntime(config, dependencies);
    return { runtime, cleanup: () => runtime.close() };
  },
  networkInterfaces,
});

describe("docker runtime", () => {
  const signal = () => AbortSignal.timeout(60_000);
  const runtime = createDockerRuntime(config, dependencies);

  test("labels, names and limits the container", async () => {
    const spec = newSpec({ resources: { cpus: 1.5, memory_mb: 512 } });
    const machine = await runtime.provision(spec, { signal: signal() });
    try {
      const info = await docker.getContainer(machine.machineID).inspect();
      expect(info.Name).toBe(`/ciab-${spec.sandboxID}`);
      expect(info.Config.Labels).toMatchObject({
        "ciab-managed": "true",
        "ciab-sandbox-id": spec.sandboxID,
        "ciab-installation-id": dependencies.installationID,
      });
      expect(info.HostConfig).toMatchObject({
        NanoCpus: 1_500_000_000,
        Memory: 512 * 1024 * 1024,
        MemorySwap: 512 * 1024 * 1024,
        PidsLimit: 4096,
        NetworkMode: "none",
        Privileged: false,
        Init: true,
        SecurityOpt: ["no-new-privileges"],
      });
      expect(info.Config.Env).toContain("CIAB_TEST=1");
    } finally {
      await runtime.destroy(machine, signal());
    }
  });

  test("a sandbox that names no limits gets the default memory and pids limits", async () => {
    const machine = await runtime.provision(newSpec(), { signal: signal() });
    try {
      const info = await docker.getContainer(machine.machineID).inspect();
      expect(info.HostConfig).toMatchObject({ Memory: 4096 * 1024 * 1024, MemorySwap: 4096 * 1024 * 1024, PidsLimit: 4096 });
    } finally {
      await runtime.destroy(machine, signal());
    }
  });

  test("a missing image other than the default is image_not_found, naming it", async () => {
    const error = await runtime
      .provision(newSpec({ image: "ciab-test/absent:latest" }), { signal: signal() })
      .catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: "image_not_found" });
    expect((error as Error).message).toContain("ciab-test/absent:latest");
  });

  test("runs agentd whatever the image's entrypoint", async () => {
    const image = `ciab-test/entrypoint:${randomBytes(4).toString("hex")}`;
    const base = execFileSync("docker", ["create", config.default_image], { encoding: "utf8" }).trim();
    execFileSync("docker", ["commit", "--change", 'ENTRYPOINT ["/bin/false"]', base, image]);
    execFileSync("docker", ["rm", base]);
    const machine = await runtime.provision(newSpec({ image }), { signal: signal() });
    try {
      expect((await waitForHealth(runtime, machine)).status).toBe(200);
    } finally {
      await runtime.destroy(machine, signal());
      execFileSync("docker", ["rmi", image]);
    }
  });

  test("building the default image when it is present returns at once, after reporting progress", async () => {
    const messages: string[] = [];
    await buildDefaultImage({
      image: config.default_image,
      signal: signal(),
      onProgress: (message) => messages.push(message),
      logger: dependencies.logger,
    });
    expect(messages).toEqual(["building default image ciab/default:bookworm (about 30 s)"]);
  });

  test("network host shares the host's interfaces", async () => {
    const machine = await runtime.provision(newSpec({ network: "host" }), { signal: signal() });
    try {
      await waitForHealth(runtime, machine);
      const host = interfaceNames(await readFile("/proc/self/net/dev", "utf8"));
      expect((await networkInterfaces(machine)).sort()).toEqual(host.sort());
    } finally {
      await runtime.destroy(machine, signal());
    }
  });
});
