import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";

/** Live (not zombie) processes whose command line names the sandbox's directory. */
function jailProcesses(sandboxID: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const state = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.[0];
      if (cmdline.includes(sandboxID) && state !== "Z") pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("machines that vanish or that nobody owns", () => {
  let server: TestServer;
  let ciab: Ciab;
  beforeAll(async () => {
    server = await startTestServer({
      env: { CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0.3", CIAB_SERVER_ORPHAN_GRACE_SECONDS: "1" },
    });
    ciab = new Ciab({ url: server.url, token: server.token });
  });
  afterAll(async () => server?.close());

  test("a docker sandbox removed behind our back fails with machine_lost, and exec says so", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "docker" });
    execFileSync("docker", ["rm", "-f", `ciab-${sandbox.id}`], { stdio: "ignore" });
    await expect(sandbox.commands.run(["true"])).rejects.toMatchObject({ code: expect.stringMatching(/sandbox_failed|invalid_state/) });
    const info = await waitFor(() => sandbox.refresh(), (value) => value.state === "failed");
    expect(info.failure).toMatchObject({ reason: "machine_lost" });
  });

  test("a local jail killed behind our back is found by the reconciler", async () => {
    const sandbox = await ciab.sandboxes.create({ runtime: "local" });
    const machineFile = readFileSync(path.join(server.dataDirectory, "sandboxes", sandbox.id, "machine.json"), "utf8");
    const pid = (JSON.parse(machineFile) as { details: { pid: number } }).details.pid;
    process.kill(pid, "SIGKILL");
    const info = await waitFor(() => sandbox.refresh(), (value) => value.state === "failed");
    expect(info.failure).toMatchObject({ reason: "machine_lost" });
    // Killing the jail's root leaves its pid 1 and agentd running; failing the sandbox must end them too.
    const survivors = await waitFor(async () => jailProcesses(sandbox.id), (pids) => pids.length === 0, 10_000);
    expect(survivors).toEqual([]);
  });

  test("a container labelled ours that no sandbox owns is destroyed after the grace period", async () => {
    const database = new Database(path.join(server.dataDirectory, "ciab.db"), { readonly: true });
    const installation = (database.prepare("select value from meta where key = 'installation_id'").get() as { value: string }).value;
    database.close();
    const name = `ciab-orphan-${process.pid}`;
    execFileSync("docker", [
      "run", "-d", "--name", name, "--network", "none",
      "--label", "ciab-managed=true", "--label", "ciab-sandbox-id=sbx_00000000000000000000000000",
      "--label", `ciab-installation-id=${installation}`, "ciab/default:bookworm", "sleep", "600",
    ], { stdio: "ignore" });
    const exists = () => execFileSync("docker", ["ps", "-aq", "--filter", `name=${name}`], { encoding: "utf8" }).trim() !== "";
    const gone = await waitFor(async () => !exists(), (value) => value, 20_000);
    if (!gone) execFileSync("docker", ["rm", "-f", name], { stdio: "ignore" });
    expect(gone).toBe(true);
  });

  test("a machine of another installation is never touched", async () => {
    const name = `ciab-foreign-${process.pid}`;
    execFileSync("docker", [
      "run", "-d", "--name", name, "--network", "none",
      "--label", "ciab-managed=true", "--label", "ciab-sandbox-id=sbx_00000000000000000000000001",
      "--label", "ciab-installation-id=someone-else", "ciab/default:bookworm", "sleep", "600",
    ], { stdio: "ignore" });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(execFileSync("docker", ["ps", "-q", "--filter", `name=${name}`], { encoding: "utf8" }).trim()).not.toBe("");
    } finally {
      execFileSync("docker", ["rm", "-f", name], { stdio: "ignore" });
    }
  });
});
