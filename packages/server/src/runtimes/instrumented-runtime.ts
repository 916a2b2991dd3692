import { CiabError } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import type { Runtime } from "./runtime.js";

/**
 * Wraps a backend once: timing and logging of every machine operation, and one error shape (anything a
 * backend throws that is not a CiabError becomes `runtime_error` with the backend's message and cause).
 */
export function instrumentRuntime(runtime: Runtime, logger: Logger): Runtime {
  async function run<T>(operation: string, sandboxID: string | undefined, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await call();
      logger.debug({ operation, sandboxID, ms: Math.round(performance.now() - started) }, "runtime operation");
      return result;
    } catch (error) {
      const wrapped =
        error instanceof CiabError
          ? error
          : new CiabError("runtime_error", `${runtime.name}: ${(error as Error).message}`, { cause: error });
      logger.warn({ operation, sandboxID, code: wrapped.code, err: wrapped.message }, "runtime operation failed");
      throw wrapped;
    }
  }
  return {
    name: runtime.name,
    capabilities: runtime.capabilities,
    defaultImage: runtime.defaultImage,
    provision: (spec, options) => run("provision", spec.sandboxID, () => runtime.provision(spec, options)),
    pause: (machine, signal) => run("pause", machine.sandboxID, () => runtime.pause(machine, signal)),
    resume: (machine, signal) => run("resume", machine.sandboxID, () => runtime.resume(machine, signal)),
    destroy: (machine, signal) => run("destroy", machine.sandboxID, () => runtime.destroy(machine, signal)),
    listManaged: (signal) => run("listManaged", undefined, () => runtime.listManaged(signal)),
    // The hot path of every exec: no timing or logging wrapper here.
    connectAgent: (machine) => runtime.connectAgent(machine),
    ...(runtime.consoleOutput && {
      consoleOutput: (machine, signal) => run("consoleOutput", machine.sandboxID, () => runtime.consoleOutput!(machine, signal)),
    }),
    ...(runtime.jobEnd && { jobEnd: (machine, signal) => run("jobEnd", machine.sandboxID, () => runtime.jobEnd!(machine, signal)) }),
    ...(runtime.stopJob && { stopJob: (machine, reason, signal) => run("stopJob", machine.sandboxID, () => runtime.stopJob!(machine, reason, signal)) }),
    ...(runtime.shellCommand && { shellCommand: (machine) => runtime.shellCommand!(machine) }),
    ...(runtime.createVolume && {
      createVolume: (spec, signal) => run("createVolume", undefined, () => runtime.createVolume!(spec, signal)),
    }),
    ...(runtime.deleteVolume && {
      deleteVolume: (volume, signal) => run("deleteVolume", undefined, () => runtime.deleteVolume!(volume, signal)),
    }),
    ...(runtime.listManagedVolumes && {
      listManagedVolumes: (signal) => run("listManagedVolumes", undefined, () => runtime.listManagedVolumes!(signal)),
    }),
    close: () => runtime.close(),
  };
}
