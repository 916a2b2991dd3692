import { CiabError } from "@ciab/protocol";
import type { AgentClient } from "../agent-channel/agent-client.js";
import { createAgentClient } from "../agent-channel/agent-client.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { SandboxRecord } from "../store/records.js";

/** One long-lived agent channel per sandbox, opened on first use and dropped when the sandbox goes. */
export interface AgentConnections {
  get(sandbox: SandboxRecord): AgentClient;
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
