import { ReverseChannelHub } from "../../packages/server/src/runtimes/ec2/reverse-hub.js";
import type { MachineDownloadSource, RuntimeDependencies } from "../../packages/server/src/runtimes/runtime.js";
import { listenForChannels, type ChannelListener } from "./reverse-channel-dial.js";

/** What a runtime with the reverse channel (ec2 `channel = "reverse"`, fargate) is given of the control plane. */
export interface ReverseRuntimeDependencies {
  reverseChannels: ReverseChannelHub;
  machineDownloads: MachineDownloadSource;
}

export interface ReverseControlPlane {
  listener: ChannelListener;
  /** The hub of the control plane as it is now. */
  readonly hub: ReverseChannelHub;
  /**
   * Plays a restarted control plane on the same address: a fresh hub serves dial-ins, the previous one's
   * sockets are cut, so agentd must come back with its channel secret. Returns what a runtime of it is given.
   */
  restart(): ReverseRuntimeDependencies;
  /** What a runtime of the control plane as it is now is given. */
  runtimeDependencies(): ReverseRuntimeDependencies;
  close(): Promise<void>;
}

/**
 * The control plane's side of the reverse channel on loopback: the listener that instances and tasks reach
 * (machine downloads of this checkout's node and agentd, the agent channel) and the hub that takes their
 * dial-ins, keeping its state in the test's data dir.
 */
export async function startReverseControlPlane(
  dependencies: Pick<RuntimeDependencies, "dataDirectory" | "toolsDirectory" | "agentdBundlePath" | "nodeBinaryPath" | "logger">,
): Promise<ReverseControlPlane> {
  const listener = await listenForChannels({ node: dependencies.nodeBinaryPath, agentd: dependencies.agentdBundlePath, toolsDirectory: dependencies.toolsDirectory });
  const newHub = () => new ReverseChannelHub({ publicURL: listener.publicURL, dataDirectory: dependencies.dataDirectory, logger: dependencies.logger });
  let hub = newHub();
  listener.use(hub);
  const runtimeDependencies = (): ReverseRuntimeDependencies => ({ reverseChannels: hub, machineDownloads: listener.machineDownloads });
  return {
    listener,
    get hub() {
      return hub;
    },
    restart() {
      hub.close();
      hub = newHub();
      listener.use(hub);
      return runtimeDependencies();
    },
    runtimeDependencies,
    async close() {
      hub.close();
      await listener.close();
    },
  };
}
