import type { AgentHealth } from "../protocol.js";
import type { Handler } from "../http/agent-request.js";
import { respondJSON } from "../http/respond.js";

export const agentVersion = "0.1.0";

export function createHealthHandler(workspaceRoot: string, gatewayPort?: number, sandboxID?: string): Handler {
  const health: AgentHealth = {
    agent: "ciab-agentd",
    version: agentVersion,
    pid: process.pid,
    workspaceRoot,
    startedAt: new Date().toISOString(),
    ...(gatewayPort !== undefined && { gatewayPort }),
    ...(sandboxID !== undefined && { sandboxID }),
  };
  return async ({ stream }) => {
    respondJSON(stream, health);
  };
}
