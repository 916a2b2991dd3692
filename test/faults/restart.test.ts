import { afterAll, describe, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";

describe("a control plane killed with SIGKILL comes back", () => {
  const data = makeTempDirectory("ciab-restart-");
  let server: ServerProcess | undefined;
  afterAll(async () => {
    if (server) {
      const ciab = new Ciab({ url: server.url, token: server.token });
      for (const sandbox of await ciab.sandboxes.list()) await sandbox.delete().catch(() => undefined);
      await server.kill("SIGTERM");
    }
    data.remove();
  });

  test("every sandbox that still runs keeps serving, with its files and processes", async () => {
    server = await startServerProcess(data.path);
    let ciab = new Ciab({ url: server.url, token: server.token });
    const sandboxes = await Promise.all([
      ciab.sandboxes.create({ runtime: "local" }),
      ciab.sandboxes.create({ runtime: "docker" }),
    ]);
    const background = [];
    for (const sandbox of sandboxes) {
      await sandbox.files.write("/workspace/kept.txt", `kept by ${sandbox.id}`);
      background.push(await sandbox.processes.start(["sleep", "300"], { tag: "survivor" }));
    }
    // Started but not awaited: the kill lands while this one is provisioning.
    const interrupted = await ciab.sandboxes.create({ runtime: "docker" }, { wait: false });

    await server.kill("SIGKILL");
    server = await startServerProcess(data.path);
    ciab = new Ciab({ url: server.url, token: server.token });

    for (const [index, before] of sandboxes.entries()) {
      const after = await ciab.sandboxes.get(before.id);
      expect(after.info.state).toBe("ready");
      expect(await after.files.read("/workspace/kept.txt")).toBe(`kept by ${before.id}`);
      expect((await after.commands.run(["echo", "still here"])).stdout).toBe("still here\n");
      const processes = await after.processes.list();
      expect(processes).toContainEqual(expect.objectContaining({ pid: background[index]!.pid, running: true }));
    }
    const settled = await ciab.sandboxes.get(interrupted.id);
    expect(["ready", "failed"]).toContain(settled.info.state);
    if (settled.info.state === "failed") expect(settled.info.failure?.reason).toBe("provision_interrupted");
  });
});
