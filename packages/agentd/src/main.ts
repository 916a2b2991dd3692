import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { createAgentServer } from "./agent-server.js";

/**
 * ciab-agentd: `node agentd.mjs --socket PATH [--workspace-root DIR] [--gateway-socket PATH]`; prints
 * `ready` once listening.
 */
const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    "workspace-root": { type: "string", default: "/workspace" },
    /** The control plane's model gateway socket, relayed to a loopback port inside the sandbox. */
    "gateway-socket": { type: "string" },
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

const server = await createAgentServer({ workspaceRoot: values["workspace-root"], log });
await server.listen(values.socket);
process.stdout.write("ready\n");

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  const forced = setTimeout(() => process.exit(0), 2000);
  forced.unref();
  void server.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
