import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { createAgentServer } from "./agent-server.js";
import { startGatewayRelay, type GatewayRelay } from "./services/gateway-relay.js";

/**
 * ciab-agentd: `node agentd.mjs --socket PATH [--workspace-root DIR] [--gateway-socket PATH [--gateway-port N]]`;
 * prints `ready` once listening.
 */
const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    "workspace-root": { type: "string", default: "/workspace" },
    /** The control plane's model gateway socket, relayed to a loopback port inside the sandbox. */
    "gateway-socket": { type: "string" },
    /** Reported by /v1/health; the control plane refuses an agentd that answers for another sandbox. */
    "sandbox-id": { type: "string" },
    /** Private dir for persisted process output (default: .ciab-agentd in the temp dir). */
    "state-dir": { type: "string" },
    /** The loopback port of that relay; 0 (the default) picks a free one, reported by /v1/health. */
    "gateway-port": { type: "string", default: "0" },
  },
  strict: true,
});

// Any image keeps its own PATH; the tools every machine gets (agent CLIs, node) come first.
for (const directory of ["/opt/ciab/bin", "/opt/ciab/tools/node_modules/.bin"]) {
  const path = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  if (existsSync(directory) && !path.split(":").includes(directory)) process.env.PATH = `${directory}:${path}`;
}

const log = (message: string): void => void process.stderr.write(`ciab-agentd: ${message}\n`);

if (values.socket === undefined) {
  log("--socket PATH is required");
  process.exit(2);
}

const gatewayPort = Number(values["gateway-port"]);
if (!Number.isInteger(gatewayPort) || gatewayPort < 0 || gatewayPort > 65535) {
  log(`--gateway-port ${values["gateway-port"]} is not a port`);
  process.exit(2);
}
// A sandbox without the gateway still runs; /v1/health then reports no gatewayPort.
let relay: GatewayRelay | undefined;
if (values["gateway-socket"] !== undefined) {
  relay = await startGatewayRelay({ socketPath: values["gateway-socket"], port: gatewayPort, log }).catch((error: Error) => {
    log(`gateway relay not started: ${error.message}`);
    return undefined;
  });
}

const server = await createAgentServer({
  workspaceRoot: values["workspace-root"],
  stateDirectory: values["state-dir"],
  log,
  gatewayPort: relay?.port,
  sandboxID: values["sandbox-id"],
});
await server.listen(values.socket);
process.stdout.write("ready\n");

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  const forced = setTimeout(() => process.exit(0), 2000);
  forced.unref();
  void Promise.all([server.close(), relay?.close()]).then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
