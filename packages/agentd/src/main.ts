import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { createAgentServer } from "./agent-server.js";
import { readEnvFile } from "./services/env-file.js";
import { startGatewayRelay, type GatewayRelay } from "./services/gateway-relay.js";
import { createReverseDialer, type ReverseDialer } from "./services/reverse-dialer.js";

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
    /** Dial the control plane at `<url>/{agent,gateway}` (the reverse channel) besides serving --socket. */
    "channel-url": { type: "string" },
    "channel-token-file": { type: "string" },
    "channel-secret-file": { type: "string" },
    /** A JSON object of the sandbox's env (ec2 fetches it at boot), given to every process agentd starts. */
    "env-file": { type: "string" },
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

if (values["env-file"] !== undefined) {
  try {
    Object.assign(process.env, readEnvFile(values["env-file"]));
  } catch (error) {
    // Without its env the sandbox would run, silently, as another one than asked for.
    log(`cannot read --env-file ${values["env-file"]}: ${(error as Error).message}`);
    process.exit(2);
  }
}

const gatewayPort = Number(values["gateway-port"]);
if (!Number.isInteger(gatewayPort) || gatewayPort < 0 || gatewayPort > 65535) {
  log(`--gateway-port ${values["gateway-port"]} is not a port`);
  process.exit(2);
}
let dialer: ReverseDialer | undefined;
if (values["channel-url"] !== undefined) {
  if (values["channel-token-file"] === undefined || values["channel-secret-file"] === undefined) {
    log("--channel-url needs --channel-token-file and --channel-secret-file");
    process.exit(2);
  }
  dialer = createReverseDialer({
    channelURL: values["channel-url"],
    tokenFile: values["channel-token-file"],
    secretFile: values["channel-secret-file"],
    log,
  });
}
// A sandbox without the gateway still runs; /v1/health then reports no gatewayPort.
let relay: GatewayRelay | undefined;
if (values["gateway-socket"] !== undefined || dialer !== undefined) {
  const relayOptions = { socketPath: values["gateway-socket"] ?? "", port: gatewayPort, log, ...(dialer && { connect: dialer.connectGateway }) };
  relay = await startGatewayRelay(relayOptions).catch((error: Error) => {
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
dialer?.start((duplex) => server.serveAgentConnection(duplex));
process.stdout.write("ready\n");

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  const forced = setTimeout(() => process.exit(0), 2000);
  forced.unref();
  dialer?.close();
  void Promise.all([server.close(), relay?.close()]).then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
