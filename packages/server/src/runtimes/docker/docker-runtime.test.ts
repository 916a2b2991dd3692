import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test, vi } from "vitest";
import { CiabError } from "@ciab/protocol";
import { createSilentLogger } from "../../logger.js";
import type { MachineSpec } from "../runtime.js";
import { dockerError, type ContainerSpec, type DockerClient } from "./docker-client.js";
import { buildDefaultImage } from "./default-image.js";
import { createDockerRuntime } from "./docker-runtime.js";

vi.mock("./default-image.js", () => ({ buildDefaultImage: vi.fn(async () => undefined) }));

const dataDirectory = mkdtempSync(path.join(os.tmpdir(), "ciab-docker-unit-"));
afterAll(() => rmSync(dataDirectory, { recursive: true, force: true }));
const dependencies = {
  dataDirectory,
  installationID: "inst_unit",
  agentdBundlePath: "/bundle/agentd.mjs",
  nodeBinaryPath: "/usr/bin/node",
  toolsDirectory: "/var/cache/ciab/tools",
  logger: createSilentLogger(),
};
const config = {
  socket_path: "/nonexistent.sock",
  default_image: "ciab/default:bookworm",
  build_default_image: true,
  network: "none" as const,
  default_pids: 4096,
  default_memory_mb: 1024,
};
const spec: MachineSpec = {
  sandboxID: "sbx_unit1",
  name: "unit",
  image: undefined,
  env: { A: "1" },
  resources: {},
  network: "none",
};
const notFound = () => new CiabError("runtime_error", "docker: no such image", { context: { statusCode: 404 } });

/** A DockerClient that records calls; `createContainer` answers with `create`. */
function fakeClient(create: (container: ContainerSpec) => Promise<string>) {
  const calls: string[] = [];
  const specs: ContainerSpec[] = [];
  const client: DockerClient = {
    createContainer: async (container) => {
      calls.push(`create ${container.image}`);
      specs.push(container);
      return create(container);
    },
    startContainer: async (id) => void calls.push(`start ${id}`),
    pauseContainer: async (id) => void calls.push(`pause ${id}`),
    unpauseContainer: async (id) => void calls.push(`unpause ${id}`),
    removeContainer: async (id) => (calls.push(`remove ${id}`), true),
    listContainers: async () => [],
    createVolume: async (name) => void calls.push(`create volume ${name}`),
    removeVolume: async (name) => (calls.push(`remove volume ${name}`), true),
  };
  return { client, calls, specs };
}

describe("docker runtime (fake engine)", () => {
  test("creates and starts in two calls with the agentd command, binds and labels", async () => {
    const { client, calls, specs } = fakeClient(async () => "c1");
    const runtime = createDockerRuntime(config, dependencies, client);
    const machine = await runtime.provision(spec, { signal: AbortSignal.timeout(5_000) });
    expect(calls).toEqual(["create ciab/default:bookworm", "start c1"]);
    expect(machine).toMatchObject({ machineID: "c1", sandboxID: "sbx_unit1" });
    const container = specs[0];
    expect(container?.command).toEqual([
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
    expect(container?.binds).toEqual([
      "/usr/bin/node:/opt/ciab/node:ro",
      "/usr/bin/node:/opt/ciab/bin/node:ro",
      "/var/cache/ciab/tools:/opt/ciab/tools:ro",
      "/bundle/agentd.mjs:/opt/ciab/agentd.mjs:ro",
      "/bundle/ciab-artifact:/opt/ciab/bin/ciab-artifact:ro",
      "/bundle/ciab-path.sh:/etc/profile.d/zz-ciab-path.sh:ro",
      `${dataDirectory}/sandboxes/sbx_unit1/run:/run/ciab`,
      `${dataDirectory}/sandboxes/sbx_unit1/workspace:/workspace`,
    ]);
    expect(container?.labels).toEqual({
      "ciab-managed": "true",
      "ciab-sandbox-id": "sbx_unit1",
      "ciab-installation-id": "inst_unit",
    });
    expect(container).toMatchObject({ name: "ciab-sbx_unit1", memoryBytes: 1024 * 1024 * 1024, pidsLimit: 4096 });
  });

  test("builds the missing default image once for concurrent callers, reporting progress, then creates again", async () => {
    let imagePresent = false;
    vi.mocked(buildDefaultImage).mockImplementationOnce(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      imagePresent = true;
    });
    const { client, calls } = fakeClient(async (container) => {
      if (!imagePresent) throw notFound();
      return container.name.replace("ciab-sbx_unit", "c");
    });
    const runtime = createDockerRuntime(config, dependencies, client);
    const onProgress = vi.fn();
    const options = { signal: AbortSignal.timeout(5_000), onProgress };
    await Promise.all([
      runtime.provision({ ...spec, sandboxID: "sbx_unit2a" }, options),
      runtime.provision({ ...spec, sandboxID: "sbx_unit2b" }, options),
    ]);
    expect(buildDefaultImage).toHaveBeenCalledTimes(1);
    expect(vi.mocked(buildDefaultImage).mock.calls[0]?.[0]).toMatchObject({ image: "ciab/default:bookworm" });
    expect(vi.mocked(buildDefaultImage).mock.calls[0]?.[0].onProgress).toBe(onProgress);
    expect(calls.filter((call) => call.startsWith("start")).sort()).toEqual(["start c2a", "start c2b"]);
  });

  test("a missing image is image_not_found when building is off", async () => {
    const { client } = fakeClient(() => Promise.reject(notFound()));
    const runtime = createDockerRuntime({ ...config, build_default_image: false }, dependencies, client);
    await expect(runtime.provision({ ...spec, sandboxID: "sbx_unit4" }, { signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
      code: "image_not_found",
      message: expect.stringMatching(/^image ciab\/default:bookworm is not present in the Docker engine/),
    });
  });

  test("a start failure removes the container it created", async () => {
    const { client, calls } = fakeClient(async () => "c3");
    client.startContainer = async () => {
      throw dockerError("start container c3", Object.assign(new Error("boom"), { statusCode: 500 }));
    };
    const runtime = createDockerRuntime(config, dependencies, client);
    await expect(runtime.provision({ ...spec, sandboxID: "sbx_unit3" }, { signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
      code: "runtime_error",
      retryable: true,
    });
    expect(calls).toEqual(["create ciab/default:bookworm", "remove c3"]);
  });
});

describe("dockerError", () => {
  test("keeps the engine's message and status; 4xx is not retryable", () => {
    const error = dockerError("create container x", Object.assign(new Error("(HTTP code 409) conflict"), {
      statusCode: 409,
      json: { message: 'Conflict. The container name "/x" is already in use' },
    }));
    expect(error.message).toBe('docker: create container x: Conflict. The container name "/x" is already in use');
    expect(error).toMatchObject({ code: "runtime_error", retryable: false, context: { statusCode: 409 } });
  });

  test("connection errors are retryable", () => {
    const error = dockerError("list containers", Object.assign(new Error("connect ENOENT /var/run/docker.sock"), { code: "ENOENT" }));
    expect(error.retryable).toBe(true);
    expect(error.cause).toBeInstanceOf(Error);
  });
});
