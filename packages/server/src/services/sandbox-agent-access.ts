import { CiabError } from "@ciab/protocol";
import type { AgentClient } from "../agent-channel/agent-client.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { SandboxRecord } from "../store/records.js";
import type { ActivityTracker } from "./activity-tracker.js";
import type { AgentConnections } from "./agent-connections.js";
import type { Principal } from "./auth-service.js";
import { lostMachineFailure, requireState } from "./sandbox-record-rules.js";

export interface AgentAccessDependencies {
  get(principal: Principal, id: string): Promise<SandboxRecord>;
  connections: AgentConnections;
  runtimes: RuntimeRegistry;
  fail(sandbox: SandboxRecord, reason: string, message: string): Promise<SandboxRecord>;
  activity?: ActivityTracker | undefined;
}

/** Calls into a ready sandbox's agent, and what they say of the sandbox's activity and of its machine. */
export function createAgentAccess(dependencies: AgentAccessDependencies) {
  const { get, connections, runtimes, fail } = dependencies;

  async function failIfMachineLost(sandbox: SandboxRecord): Promise<void> {
    const managed = await runtimes.get(sandbox.runtime).listManaged(AbortSignal.timeout(30_000));
    if (managed.some((machine) => machine.sandboxID === sandbox.id && machine.state !== "stopped")) return;
    const { reason, message } = lostMachineFailure(sandbox);
    await fail(sandbox, reason, message);
    throw new CiabError("sandbox_failed", `sandbox ${sandbox.id} failed: its machine is gone (${reason})`, {
      context: { sandbox_id: sandbox.id, reason },
    });
  }

  /**
   * Runs `call` against the sandbox's agent. When the agent cannot be reached, asks the runtime whether
   * the machine still exists; a vanished machine fails the sandbox (`machine_lost`).
   */
  async function withAgent<T>(principal: Principal, id: string, call: (agent: AgentClient) => Promise<T>): Promise<T> {
    const sandbox = await get(principal, id);
    requireState(sandbox, ["ready"], "use");
    try {
      return await call(connections.get(sandbox));
    } catch (error) {
      if (error instanceof CiabError && error.code === "agent_unreachable") await failIfMachineLost(sandbox);
      throw error;
    }
  }

  return {
    withAgent,

    /**
     * Like `withAgent`, for calls that are traffic a person or program sends into the sandbox (exec, shell,
     * stdin, signals): they keep its sessions from being idle.
     */
    async withAgentActive<T>(principal: Principal, id: string, call: (agent: AgentClient) => Promise<T>): Promise<T> {
      const result = await withAgent(principal, id, call);
      dependencies.activity?.touch(id);
      return result;
    },

    /** Marks traffic on a sandbox that did not go through `withAgentActive` (output streamed to a client). */
    touch(id: string): void {
      dependencies.activity?.touch(id);
    },
  };
}
