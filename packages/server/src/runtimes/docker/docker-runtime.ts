import { mkdir, rm, unlink } from "node:fs/promises";
import type { Duplex } from "node:stream";
import { CiabError, agentSocketDirectory } from "@ciab/protocol";
import type { DockerRuntimeConfig } from "../../config/config-schema.js";
import type { Logger } from "../../logger.js";
import { connectUnixSocket, removeAgentSocketLink } from "../local/agent-socket.js";
import {
  agentdCommand,
  machineAgentdPath,
  machineNodePath,
  machineWorkspace,
  sandboxPaths,
  machineNodeBinDirectory,
  machineToolsPath,
  besideBundle,
  machineArtifactCommandPath,
  machineProfileSnippetPath,
} from "../local/machine-layout.js";
import {
  machineLabels,
  type Machine,
  type MachineSpec,
  type ManagedMachine,
  type ProvisionOptions,
  type Runtime,
  type RuntimeCapabilities,
  type RuntimeDependencies,
  type VolumeHandle,
  type VolumeSpec,
} from "../runtime.js";
import { buildDefaultImage } from "./default-image.js";
import { createDockerodeClient, isDockerNotFound, type ContainerSpec, type DockerClient } from "./docker-client.js";

const managedStates: Record<string, ManagedMachine["state"]> = {
  created: "stopped",
  running: "running",
  paused: "paused",
  exited: "stopped",
  dead: "stopped",
};

/**
 * Sandboxes as Docker containers. agentd and a Node binary are bind-mounted in, so any image works; the
 * container's `/run/ciab` and `/workspace` are bind mounts of the sandbox's host dir (`run/`, `workspace/`),
 * so the control plane reaches agentd's socket from the host and the work dir survives nothing but the
 * sandbox itself.
 */
export class DockerRuntime implements Runtime {
  readonly name = "docker" as const;
  readonly capabilities: RuntimeCapabilities = {
    pause: true,
    resourceLimits: true,
    hostNetwork: true,
    images: true,
    loaderEnvironment: true,
    volumes: true,
  };
  readonly defaultImage: string;
  #imageBuild: Promise<void> | undefined;

  constructor(
    private readonly config: DockerRuntimeConfig,
    private readonly dependencies: RuntimeDependencies,
    private readonly client: DockerClient,
    private readonly logger: Logger,
  ) {
    this.defaultImage = config.default_image;
  }

  async provision(spec: MachineSpec, options: ProvisionOptions): Promise<Machine> {
    const image = spec.image ?? this.defaultImage;
    const paths = sandboxPaths(this.dependencies.dataDirectory, spec.sandboxID);
    await mkdir(paths.workspace, { recursive: true });
    await mkdir(paths.run, { recursive: true });
    await unlink(paths.socket).catch(() => undefined);
    let containerID: string | undefined;
    try {
      const container = this.#containerSpec(spec, image);
      // Create first and learn of a missing image from the 404: no inspect or pull on the fast path.
      containerID = await this.client.createContainer(container, options.signal).catch(async (error: unknown) => {
        if (!isDockerNotFound(error)) throw error;
        await this.#provideImage(image, error, options);
        return this.client.createContainer(container, options.signal);
      });
      await this.client.startContainer(containerID, options.signal);
      const details = { containerID, containerName: container.name, image, socketPath: paths.socket };
      return { machineID: containerID, sandboxID: spec.sandboxID, details };
    } catch (error) {
      if (containerID !== undefined) await this.client.removeContainer(containerID, AbortSignal.timeout(30_000)).catch(() => false);
      await rm(paths.directory, { recursive: true, force: true });
      throw error;
    }
  }

  async pause(machine: Machine, signal: AbortSignal): Promise<void> {
    await this.client.pauseContainer(containerIDOf(machine), signal);
  }

  async resume(machine: Machine, signal: AbortSignal): Promise<void> {
    await this.client.unpauseContainer(containerIDOf(machine), signal);
  }

  async destroy(machine: Machine, signal: AbortSignal): Promise<void> {
    const paths = sandboxPaths(this.dependencies.dataDirectory, machine.sandboxID);
    await this.client.removeContainer(containerIDOf(machine), signal);
    // Files agentd wrote as the container's root are the host's root's too: the control plane runs as root
    // wherever it can reach dockerd's socket, so this removal can see them all.
    await rm(paths.directory, { recursive: true, force: true, maxRetries: 3 });
    await removeAgentSocketLink(paths.socket);
  }

  async listManaged(signal: AbortSignal): Promise<ManagedMachine[]> {
    const containers = await this.client.listContainers(
      { [machineLabels.managed]: "true", [machineLabels.installationID]: this.dependencies.installationID },
      signal,
    );
    return containers.flatMap((container) => {
      const sandboxID = container.labels[machineLabels.sandboxID];
      if (sandboxID === undefined) return [];
      return [
        {
          machineID: container.id,
          sandboxID,
          state: managedStates[container.state] ?? "unknown",
          details: { containerID: container.id, containerName: container.name },
        },
      ];
    });
  }

  /** A named Docker volume, labeled with this installation and its owners, mounted at /workspace. */
  async createVolume(spec: VolumeSpec, signal: AbortSignal): Promise<Record<string, unknown>> {
    const volumeName = dockerVolumeName(spec.volumeID);
    await this.client.createVolume(
      volumeName,
      {
        [machineLabels.managed]: "true",
        [machineLabels.installationID]: this.dependencies.installationID,
        [machineLabels.workspaceID]: spec.workspaceID,
        [machineLabels.userID]: spec.userID,
        [machineLabels.volumeID]: spec.volumeID,
      },
      signal,
    );
    return { volumeName };
  }

  async deleteVolume(volume: VolumeHandle, signal: AbortSignal): Promise<void> {
    await this.client.removeVolume(dockerVolumeName(volume.volumeID), signal).catch((error: unknown) => {
      if (error instanceof CiabError && error.context?.statusCode === 409) {
        throw new CiabError("volume_in_use", `volume ${volume.volumeID} is still used by a container`, { cause: error });
      }
      throw error;
    });
  }

  async connectAgent(machine: Machine): Promise<Duplex> {
    return connectUnixSocket(sandboxPaths(this.dependencies.dataDirectory, machine.sandboxID).socket);
  }

  async close(): Promise<void> {}

  #containerSpec(spec: MachineSpec, image: string): ContainerSpec {
    const paths = sandboxPaths(this.dependencies.dataDirectory, spec.sandboxID);
    const cpus = spec.resources.cpus ?? this.config.default_cpus;
    const memoryMB = spec.resources.memory_mb ?? this.config.default_memory_mb;
    return {
      name: `ciab-${spec.sandboxID}`,
      image,
      hostname: `ciab-${spec.sandboxID.toLowerCase().replace(/[^a-z0-9]/g, "").slice(-12)}`,
      command: agentdCommand(spec.sandboxID),
      env: spec.env,
      labels: {
        [machineLabels.managed]: "true",
        [machineLabels.sandboxID]: spec.sandboxID,
        [machineLabels.installationID]: this.dependencies.installationID,
      },
      workingDirectory: machineWorkspace,
      binds: [
        `${this.dependencies.nodeBinaryPath}:${machineNodePath}:ro`,
        `${this.dependencies.nodeBinaryPath}:${machineNodeBinDirectory}/node:ro`,
        `${this.dependencies.toolsDirectory}:${machineToolsPath}:ro`,
        `${this.dependencies.agentdBundlePath}:${machineAgentdPath}:ro`,
        `${besideBundle(this.dependencies.agentdBundlePath).artifactCommand}:${machineArtifactCommandPath}:ro`,
        `${besideBundle(this.dependencies.agentdBundlePath).profileSnippet}:${machineProfileSnippetPath}:ro`,
        `${paths.run}:${agentSocketDirectory}`,
        // The volume's name comes from our own id, never from stored details a caller could have shaped.
        `${spec.volume ? dockerVolumeName(spec.volume.volumeID) : paths.workspace}:${machineWorkspace}`,
      ],
      network: spec.network,
      nanoCPUs: cpus === undefined ? undefined : Math.round(cpus * 1e9),
      memoryBytes: memoryMB === undefined ? undefined : memoryMB * 1024 * 1024,
      pidsLimit: spec.resources.pids ?? this.config.default_pids,
    };
  }

  /** After a 404 on create: builds the default image when allowed (once for concurrent callers), else fails. */
  async #provideImage(image: string, cause: unknown, options: ProvisionOptions): Promise<void> {
    if (image !== this.defaultImage || !this.config.build_default_image) {
      const how =
        `load it into the engine first: \`docker load -i image.tar\` (a saved image) or \`docker import rootfs.tar ${image}\` ` +
        "(a root filesystem); ciab never pulls, there may be no registry";
      throw new CiabError("image_not_found", `image ${image} is not present in the Docker engine: ${how}`, {
        cause,
        context: { image },
      });
    }
    this.#imageBuild ??= buildDefaultImage({
      image,
      signal: AbortSignal.timeout(15 * 60_000),
      logger: this.logger,
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    }).finally(() => (this.#imageBuild = undefined));
    await abortable(this.#imageBuild, options.signal);
  }
}

export function createDockerRuntime(
  config: DockerRuntimeConfig,
  dependencies: RuntimeDependencies,
  client: DockerClient = createDockerodeClient(config.socket_path),
): Runtime {
  return new DockerRuntime(config, dependencies, client, dependencies.logger.child({ runtime: "docker" }));
}

function dockerVolumeName(volumeID: string): string {
  if (!/^vol_[0-9a-z]{26}$/.test(volumeID)) throw new CiabError("invalid_request", `${JSON.stringify(volumeID)} is not a volume id`);
  return `ciab-${volumeID}`;
}

function containerIDOf(machine: Machine): string {
  const id = machine.details.containerID;
  return typeof id === "string" ? id : machine.machineID;
}

/** Waits for a shared promise while letting one caller give up on it without cancelling it for the others. */
async function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
