import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Ciab, type SandboxHandle } from "../../packages/sdk/src/index.js";
import { localRuntimeSchema } from "../../packages/server/src/config/config-schema.js";
import { createLocalRuntime } from "../../packages/server/src/runtimes/local/index.js";
import { startTestServer, type TestServer } from "../harness/test-server.js";
import { waitForHealth } from "../runtimes/agent-health.js";
import { newSpec } from "../runtimes/runtime-conformance.js";
import { testDependencies } from "../runtimes/test-dependencies.js";

/**
 * A tenant's jail claims to be other sandboxes in every way it controls (argv, environment, machine files
 * in its own dirs); the reconciler, running many passes past the orphan grace, must reap none of them.
 */
describe("a jail forging another sandbox's identity", () => {
  let server: TestServer;
  let ciab: Ciab;
  beforeAll(async () => {
    server = await startTestServer({
      env: { CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0.2", CIAB_SERVER_ORPHAN_GRACE_SECONDS: "0.3" },
    });
    ciab = new Ciab({ url: server.url, token: server.token });
  });
  afterAll(async () => server?.close());

  async function forge(attacker: SandboxHandle, victimID: string): Promise<void> {
    const victimDirectory = path.join(server.dataDirectory, "sandboxes", victimID);
    // The argv the runtime once recognised jails by, and the environment and records a jail of the victim has.
    const argv = ["setsid", "-f", "python3", "-c", "import time; time.sleep(600)", `${victimDirectory}/workspace`, "--unshare-pid", "--sandbox-id", victimID];
    const forged = await attacker.commands.run(argv, { env: { CIAB_SANDBOX_ID: victimID } });
    expect(forged.exit_code).toBe(0);
    const record = JSON.stringify({ machineID: "1", sandboxID: victimID, installationID: "x", details: { pid: 1, startTime: 0 } });
    const files = await attacker.commands.run([
      "sh",
      "-c",
      'for dir in /workspace /run/ciab /tmp; do printf %s "$1" > "$dir/machine.json"; mkdir -p "$dir/$2"; printf %s "$1" > "$dir/$2/machine.json"; done',
      "forge",
      record,
      victimID,
    ]);
    expect(files.exit_code).toBe(0);
  }

  test("no local or docker sandbox is reaped, and the attacker's own destroy touches only its jail", async () => {
    const attacker = await ciab.sandboxes.create({ runtime: "local" });
    const localVictim = await ciab.sandboxes.create({ runtime: "local" });
    const dockerVictim = await ciab.sandboxes.create({ runtime: "docker" });
    const unknownID = "sbx_00000000000000000000000001";
    for (const victim of [localVictim.id, dockerVictim.id, unknownID]) await forge(attacker, victim);

    // Many reconcile passes, each past the orphan grace.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const victim of [localVictim, dockerVictim, attacker]) {
      expect((await victim.refresh()).state, victim.id).toBe("ready");
      expect((await victim.commands.run(["true"])).exit_code, victim.id).toBe(0);
      expect(existsSync(path.join(server.dataDirectory, "sandboxes", victim.id, "run")), victim.id).toBe(true);
    }

    await attacker.delete();
    for (const victim of [localVictim, dockerVictim]) {
      expect((await victim.commands.run(["true"])).exit_code, victim.id).toBe(0);
    }
  });
});

describe("runtimes sharing a data dir", () => {
  const dependencies = testDependencies("shared");
  afterAll(() => dependencies.removeDataDirectory());

  test("a bwrap runtime and an isolation-none runtime each list and reap only their own jails", async () => {
    const bwrap = createLocalRuntime(localRuntimeSchema.parse({ workspace_size_mb: 0 }), dependencies);
    const unconfined = createLocalRuntime(localRuntimeSchema.parse({ isolation: "none" }), dependencies);
    const signal = () => AbortSignal.timeout(30_000);
    const jailed = await bwrap.provision(newSpec(), { signal: signal() });
    const plain = await unconfined.provision(newSpec(), { signal: signal() });
    try {
      await waitForHealth(bwrap, jailed);
      await waitForHealth(unconfined, plain);
      expect((await bwrap.listManaged(signal())).map((each) => each.sandboxID)).toEqual([jailed.sandboxID]);
      expect((await unconfined.listManaged(signal())).map((each) => each.sandboxID)).toEqual([plain.sandboxID]);
    } finally {
      await bwrap.destroy(jailed, signal());
      await unconfined.destroy(plain, signal());
      await bwrap.close();
      await unconfined.close();
    }
  });
});
