import { CiabError } from "@ciab/protocol";
import type { AgentClient } from "../agent-channel/agent-client.js";
import { createAgentClient } from "../agent-channel/agent-client.js";
import type { Duplex } from "node:stream";
import { openRawTunnel } from "../agent-channel/raw-tunnel.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { SandboxRecord } from "../store/records.js";

/** One long-lived agent channel per sandbox, opened on first use and dropped when the sandbox goes. */
export interface AgentConnections {
  get(sandbox: SandboxRecord): AgentClient;
  /**
   * A byte tunnel to a loopback port in the sandbox: a raw connection of its own when agentd offers one,
   * else CONNECT on the agent channel. Throws `preview_unreachable` when nothing listens there.
   */
  connectPort(sandbox: SandboxRecord, port: number, signal?: AbortSignal): Promise<Duplex>;
  drop(sandboxID: string): void;
  closeAll(): void;
}

export function createAgentConnections(runtimes: RuntimeRegistry): AgentConnections {
  const clients = new Map<string, AgentClient>();
  return {
    get(sandbox) {
      const existing = clients.get(sandbox.id);
      if (existing) return existing;
      const machine = sandbox.machine;
      if (!machine) throw new CiabError("sandbox_not_ready", `sandbox ${sandbox.id} has no machine yet`);
      const runtime = runtimes.get(sandbox.runtime);
      const client = createAgentClient({ connect: () => runtime.connectAgent(machine), expectedSandboxID: sandbox.id });
      clients.set(sandbox.id, client);
      return client;
    },
    async connectPort(sandbox, port, signal) {
      const client = this.get(sandbox);
      const runtime = runtimes.get(sandbox.runtime);
      try {
        return await openRawTunnel(() => runtime.connectAgent(sandbox.machine!), sandbox.id, port, signal);
      } catch (error) {
        if (!(error instanceof CiabError) || error.code !== "agent_unreachable") throw error;
        return client.connectPort(port, signal);
      }
    },
    drop(sandboxID) {
      clients.get(sandboxID)?.close();
      clients.delete(sandboxID);
    },
    closeAll() {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}
