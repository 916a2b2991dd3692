// Run as a non-root uid by jail-non-root-server.test.ts: provisions one local jail in the data dir given as
// argv[2], checks agentd answers and what the jail's uid is, destroys it, and prints a JSON summary.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { localRuntimeSchema } from "../../packages/server/src/config/config-schema.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import { createLocalRuntime } from "../../packages/server/src/runtimes/local/index.js";
import { waitForHealth } from "../runtimes/agent-health.js";
import { agentdBundlePath } from "../runtimes/test-dependencies.js";

const dataDirectory = process.argv[2]!;
mkdirSync(path.join(dataDirectory, "tools"), { recursive: true });
const runtime = createLocalRuntime(localRuntimeSchema.parse({}), {
  dataDirectory,
  installationID: "inst_nonroot",
  agentdBundlePath,
  nodeBinaryPath: process.execPath,
  toolsDirectory: path.join(dataDirectory, "tools"),
  logger: createSilentLogger(),
});
const signal = () => AbortSignal.timeout(30_000);
const spec = { sandboxID: `sbx_nonroot${process.pid}`, name: "nonroot", image: undefined, env: {}, resources: {}, network: "none" as const };
const machine = await runtime.provision(spec, { signal: signal() });
const health = await waitForHealth(runtime, machine);
const listed = (await runtime.listManaged(signal())).length;
await runtime.destroy(machine, signal());
const afterDestroy = (await runtime.listManaged(signal())).length;
console.log(JSON.stringify({ health: health.status, details: machine.details, listed, afterDestroy }));
