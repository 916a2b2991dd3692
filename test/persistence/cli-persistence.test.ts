import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
/* eslint-disable @typescript-eslint/no-explicit-any */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");

/** `ciab run --persistence`, `ciab session create`, `ciab sandbox create --persistence` and `ciab volume …`. */
describe("persistence through the CLI", () => {
  const data = makeTempDirectory("ciab-cli-vol-");
  let server: ServerProcess;
  const ciab = (args: string[]) => {
    const result = spawnSync(process.execPath, [cli, ...args], {
      env: { ...process.env, CIAB_DATA_DIR: data.path, CIAB_URL: "", CIAB_TOKEN: "" },
      encoding: "utf8",
      timeout: 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const json = (args: string[]) => {
    const result = ciab([...args, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };

  /** Polls the API (not the CLI: each run of it starts a process) until `done` holds, for at most 20 s. */
  const waitFor = async (route: string, done: (body: any) => boolean): Promise<any> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const body = await (await fetch(`${server.url}/api/v1${route}`, { headers: { authorization: `Bearer ${server.token}` } })).json();
      if (done(body)) return body;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${route} did not get there`);
  };

  beforeAll(async () => {
    server = await startServerProcess(data.path, { CIAB_RUNTIME_LOCAL_WORKSPACE_SIZE_MB: "32" });
  });
  afterAll(async () => {
    await server?.kill("SIGTERM");
    data.remove();
  });

  test("runs that opt into a volume share it; the volume is listed and removed", async () => {
    const write = ciab(["run", "--provider", "shell", "--runtime", "local", "--persistence", "persistent-volume", "echo one > /workspace/kept"]);
    expect(write.code, write.stderr).toBe(0);
    // The next run starts right away, while the first run's sandbox is still being torn down: its claim waits.
    const read = ciab(["run", "--provider", "shell", "--runtime", "local", "--persistence", "persistent-volume", "cat /workspace/kept"]);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain("one");
    const [volume] = json(["volume", "list"]).volumes;
    expect(volume).toMatchObject({ id: expect.stringMatching(/^vol_/), runtime: "local" });
    const again = ciab(["run", "--provider", "shell", "--runtime", "local", "--persistence", "persistent-volume", "--volume", volume.id, "cat /workspace/kept"]);
    expect([again.code, again.stdout.includes("one")], again.stderr).toEqual([0, true]);
    await waitFor(`/volumes/${volume.id}`, (body) => body.state === "available");
    // A size is for runtimes that make volumes to measure (ec2); a local volume's is the jail's quota.
    const sized = ciab(["run", "--provider", "shell", "--runtime", "local", "--persistence", "persistent-volume", "--volume-size", "2", "true"]);
    expect([sized.code, sized.stderr.includes("capability_unsupported")], sized.stderr).toEqual([125, true]);

    const sandbox = json(["sandbox", "create", "--runtime", "local", "--persistence", "persistent-volume", "--volume", volume.id]);
    expect(sandbox).toMatchObject({ persistence: "persistent-volume", volume_id: volume.id });
    expect(ciab(["volume", "list"]).stdout).toContain(`in use by ${sandbox.id}`);
    const busy = ciab(["volume", "rm", volume.id]);
    expect([busy.code, busy.stderr.includes("volume_in_use")]).toEqual([125, true]);
    expect(ciab(["sandbox", "rm", sandbox.id]).code).toBe(0);
    expect(ciab(["volume", "rm", volume.id]).code).toBe(0);
    expect(ciab(["volume", "list"]).stdout.trim()).toBe("no volumes");
  }, 120_000);

  test("session create starts a session with the persistence asked for, without following it", async () => {
    const session = json(["session", "create", "--provider", "shell", "--runtime", "local", "--persistence", "snapshot-on-idle", "true"]);
    expect(session).toMatchObject({ persistence: "snapshot-on-idle", mode: "headless" });
    const ended = await waitFor(`/sessions/${session.id}`, (body) => body.final_snapshot_id !== null);
    expect(ciab(["session", "get", ended.id]).stdout).toContain(`persistence: snapshot-on-idle, saved as ${ended.final_snapshot_id}`);
    const refused = ciab(["session", "create", "--provider", "shell", "--persistence", "kept"]);
    expect(refused.code).not.toBe(0);
  });
});
