import { CiabError } from "@ciab/protocol";
import type { MachineJobEnd } from "../runtimes/runtime.js";
import type { RuntimeRegistry } from "../runtimes/runtime-registry.js";
import type { SandboxRecord } from "../store/records.js";
import type { Principal } from "./auth-service.js";
import { liveMachineOf } from "./sandbox-record-rules.js";

/** What a sandbox's backend can tell of its machine from outside it, for the runtimes that can. */
export function createMachineQueries(get: (principal: Principal, id: string) => Promise<SandboxRecord>, runtimes: RuntimeRegistry) {
  return {
    /** The backend's own shell command for the sandbox's machine; `capability_unsupported` where it has none. */
    async shellCommand(principal: Principal, id: string): Promise<string[]> {
      const sandbox = await get(principal, id);
      const runtime = runtimes.get(sandbox.runtime);
      if (!runtime.shellCommand) throw new CiabError("capability_unsupported", `${runtime.name} sandboxes have no shell command of their backend: use ciab sandbox attach`);
      return runtime.shellCommand(liveMachineOf(sandbox));
    },

    /** How the job its machine was made with ended (`Runtime.jobEnd`); undefined while it runs or for none. */
    async jobEnd(principal: Principal, id: string): Promise<MachineJobEnd | undefined> {
      const sandbox = await get(principal, id);
      const runtime = runtimes.get(sandbox.runtime);
      if (!runtime.jobEnd || sandbox.machine === null) return undefined;
      return runtime.jobEnd(sandbox.machine, AbortSignal.timeout(30_000));
    },

    /**
     * Stops the job its machine was made with (`Runtime.stopJob`), `reason` recorded by the backend. Answers
     * the sandbox when it had a job, which ended its machine; undefined for none.
     */
    async stopJob(principal: Principal, id: string, reason: string): Promise<SandboxRecord | undefined> {
      const sandbox = await get(principal, id);
      const runtime = runtimes.get(sandbox.runtime);
      if (!runtime.stopJob || sandbox.machine === null || sandbox.state === "terminated") return undefined;
      return (await runtime.stopJob(sandbox.machine, reason, AbortSignal.timeout(30_000))) ? sandbox : undefined;
    },

    /** What the sandbox's machine printed on its console; `capability_unsupported` where the runtime has none. */
    async consoleOutput(principal: Principal, id: string): Promise<string> {
      const sandbox = await get(principal, id);
      const runtime = runtimes.get(sandbox.runtime);
      if (!runtime.capabilities.consoleOutput || !runtime.consoleOutput) {
        throw new CiabError("capability_unsupported", `${runtime.name} sandboxes have no console output`);
      }
      return runtime.consoleOutput(liveMachineOf(sandbox), AbortSignal.timeout(30_000));
    },
  };
}
