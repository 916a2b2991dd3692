import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** Both persistence modes on the docker runtime: a named Docker volume labeled with its owners; snapshots. */
describe("persistence on the docker runtime", () => {
  let server: TestServer;

  async function run(sandboxID: string, script: string): Promise<string> {
    const answer = await server.api("POST", `/sandboxes/${sandboxID}/exec`, { command: ["sh", "-c", script] });
    expect(answer.body.exit_code, JSON.stringify(answer.body)).toBe(0);
    return answer.body.stdout as string;
  }

  function dockerVolumeLabels(name: string): Record<string, string> | undefined {
    try {
      return JSON.parse(execFileSync("docker", ["volume", "inspect", "--format", "{{json .Labels}}", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    } catch {
      return undefined;
    }
  }

  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    // Docker volumes outlive the server's data dir: whatever a failed test left goes too.
    for (const sandbox of (await server?.api("GET", "/sandboxes"))?.body.sandboxes ?? []) await server.api("DELETE", `/sandboxes/${sandbox.id}`);
    for (const volume of (await server?.api("GET", "/volumes"))?.body.volumes ?? []) await server.api("DELETE", `/volumes/${volume.id}`);
    await server?.close();
  });

  test("a user's Docker volume keeps /workspace across containers, is mounted once, and goes when deleted", async () => {
    const first = await server.api("POST", "/sandboxes", { runtime: "docker", persistence: "persistent-volume" });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const volumeID = first.body.volume_id as string;
    const name = `ciab-${volumeID}`;
    const labels = dockerVolumeLabels(name);
    expect(labels).toMatchObject({ "ciab-managed": "true", "ciab-volume-id": volumeID, "ciab-user-id": expect.stringMatching(/^usr_/), "ciab-workspace-id": expect.stringMatching(/^ws_/) });
    await run(first.body.id, "mkdir -p src && printf kept > src/file");

    const twice = await server.api("POST", "/sandboxes", { runtime: "docker", persistence: "persistent-volume", volume: volumeID });
    expect(twice.body.error?.code).toBe("volume_in_use");
    // A local sandbox has volumes of its own: this one is the docker runtime's.
    const elsewhere = await server.api("POST", "/sandboxes", { runtime: "local", persistence: "persistent-volume", volume: volumeID });
    expect(elsewhere.status).toBe(400);

    // Asked for while the first container is being removed: the claim waits for it instead of failing.
    const deleting = server.api("DELETE", `/sandboxes/${first.body.id}`);
    const deadline = Date.now() + 10_000;
    while ((await server.api("GET", `/sandboxes/${first.body.id}`)).body.state === "ready" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const second = await server.api("POST", "/sandboxes", { runtime: "docker", persistence: "persistent-volume" });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body.volume_id).toBe(volumeID);
    expect((await deleting).body.state).toBe("terminated");
    expect(await run(second.body.id, "cat src/file")).toBe("kept");
    expect((await server.api("DELETE", `/volumes/${volumeID}`)).body.error?.code).toBe("volume_in_use");
    await server.api("DELETE", `/sandboxes/${second.body.id}`);
    expect((await server.api("DELETE", `/volumes/${volumeID}`)).status).toBe(200);
    expect(dockerVolumeLabels(name)).toBeUndefined();
  }, 120_000);

  test("snapshot-on-idle: a deleted docker sandbox leaves a snapshot that restores", async () => {
    const sandbox = (await server.api("POST", "/sandboxes", { runtime: "docker", persistence: "snapshot-on-idle" })).body;
    await run(sandbox.id, "printf saved > notes");
    const deleted = await server.api("DELETE", `/sandboxes/${sandbox.id}`);
    expect(deleted.body.final_snapshot_id).toMatch(/^snap_/);
    const restored = await server.api("POST", "/sandboxes", { runtime: "docker", restore: deleted.body.final_snapshot_id });
    expect(restored.status, JSON.stringify(restored.body)).toBe(201);
    expect(await run(restored.body.id, "cat notes")).toBe("saved");
  }, 120_000);
});
