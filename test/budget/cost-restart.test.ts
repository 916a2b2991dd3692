import { afterAll, describe, expect, test } from "vitest";
import { Ciab } from "../../packages/sdk/src/index.js";
import { makeTempDirectory } from "../harness/temp-directory.js";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("cost across a control plane killed with SIGKILL", () => {
  const data = makeTempDirectory("ciab-cost-restart-");
  // $36 an hour is a cent a second; the ledger is folded every 0.5 s.
  const env = { CIAB_BUDGET_LOCAL_USD_PER_HOUR: "36", CIAB_BUDGET_ACCRUAL_INTERVAL_SECONDS: "0.5" };
  let server: ServerProcess | undefined;
  afterAll(async () => {
    if (server) {
      const ciab = new Ciab({ url: server.url, token: server.token });
      for (const sandbox of await ciab.sandboxes.list()) await sandbox.delete().catch(() => undefined);
      await server.kill("SIGTERM");
    }
    data.remove();
  });

  test("a running sandbox's cost counts the time the control plane was down, once", async () => {
    server = await startServerProcess(data.path, env);
    let ciab = new Ciab({ url: server.url, token: server.token });
    const sandbox = await ciab.sandboxes.create({ runtime: "local" });
    await sleep(1_200);
    await server.kill("SIGKILL");
    await sleep(1_000);
    server = await startServerProcess(data.path, env);
    ciab = new Ciab({ url: server.url, token: server.token });

    const after = await ciab.sandboxes.get(sandbox.id);
    expect(after.info.state).toBe("ready");
    const deleted = await after.delete();
    const lived = (Date.parse(deleted.updated_at) - Date.parse(sandbox.info.created_at)) / 1000;
    expect(deleted.cost_usd).toBeCloseTo(lived * 0.01, 4);
    const usage = await ciab.usage.report({ groupBy: ["runtime"] });
    expect(usage.rows).toEqual([{ runtime: "local", machine_seconds: expect.closeTo(lived, 3), cost_usd: expect.closeTo(deleted.cost_usd, 6) }]);
  });
});
