import Docker from "dockerode";
import { CiabError } from "@ciab/protocol";

/** One container to create, in our words; the dockerode client turns it into an Engine API body. */
export interface ContainerSpec {
  name: string;
  image: string;
  hostname: string;
  command: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  workingDirectory: string;
  /** `host:container[:ro]` bind mounts. */
  binds: string[];
  network: "none" | "host";
  nanoCPUs: number | undefined;
  memoryBytes: number | undefined;
  pidsLimit: number | undefined;
}

export interface ContainerSummary {
  id: string;
  name: string;
  /** The engine's state: created, running, paused, restarting, removing, exited, dead. */
  state: string;
  labels: Record<string, string>;
}

/**
 * The few Docker Engine calls the docker runtime makes, so that nothing else imports dockerode and tests can
 * swap the engine. Failures are CiabError `runtime_error` carrying the engine's message, its HTTP status in
 * `context.statusCode` and `retryable` for 5xx and connection errors.
 */
export interface DockerClient {
  /** Creates a container and returns its id; a missing image fails with status 404 and is never pulled. */
  createContainer(spec: ContainerSpec, signal: AbortSignal): Promise<string>;
  startContainer(id: string, signal: AbortSignal): Promise<void>;
  pauseContainer(id: string, signal: AbortSignal): Promise<void>;
  unpauseContainer(id: string, signal: AbortSignal): Promise<void>;
  /** Kills and removes a container with its anonymous volumes; false when it was already gone. */
  removeContainer(id: string, signal: AbortSignal): Promise<boolean>;
  /** Every container, running or not, carrying all of `labels`. */
  listContainers(labels: Record<string, string>, signal: AbortSignal): Promise<ContainerSummary[]>;
  /** Creates a named local volume with `labels` (a no-op when it exists). */
  createVolume(name: string, labels: Record<string, string>, signal: AbortSignal): Promise<void>;
  /** Removes a named volume; false when it was already gone; status 409 while a container uses it. */
  removeVolume(name: string, signal: AbortSignal): Promise<boolean>;
}

export function isDockerNotFound(error: unknown): boolean {
  return error instanceof CiabError && error.context?.statusCode === 404;
}

/** Turns a dockerode failure into a CiabError that keeps the engine's own message. */
export function dockerError(action: string, error: unknown): CiabError {
  const { statusCode, json } = error as { statusCode?: number; json?: unknown };
  const engineMessage =
    typeof json === "object" && json !== null && typeof (json as { message?: unknown }).message === "string"
      ? (json as { message: string }).message
      : (error as Error).message;
  const retryable = statusCode === undefined || statusCode >= 500;
  return new CiabError("runtime_error", `docker: ${action}: ${engineMessage}`, {
    cause: error,
    retryable,
    ...(statusCode === undefined ? {} : { context: { statusCode } }),
  });
}

/** A DockerClient over dockerode on the engine's unix socket. */
export function createDockerodeClient(socketPath: string): DockerClient {
  const docker = new Docker({ socketPath });
  const call = async <T>(action: string, signal: AbortSignal, run: () => Promise<T>): Promise<T> => {
    signal.throwIfAborted();
    try {
      return await run();
    } catch (error) {
      signal.throwIfAborted();
      throw dockerError(action, error);
    }
  };
  return {
    createContainer: (spec, signal) =>
      call(`create container ${spec.name} from ${spec.image}`, signal, async () => {
        const container = await docker.createContainer({
          name: spec.name,
          Image: spec.image,
          Hostname: spec.hostname,
          // An empty entrypoint and root, so agentd starts whatever the image's own ENTRYPOINT and USER are
          // (it creates its socket in the host-owned run dir).
          Entrypoint: [],
          User: "0:0",
          Cmd: spec.command,
          Env: Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
          Labels: spec.labels,
          WorkingDir: spec.workingDirectory,
          HostConfig: {
            Binds: spec.binds,
            NetworkMode: spec.network,
            ...(spec.nanoCPUs === undefined ? {} : { NanoCpus: spec.nanoCPUs }),
            // Swap equal to memory: the limit is the whole bound, not half of it (Docker's default doubles it).
            ...(spec.memoryBytes === undefined ? {} : { Memory: spec.memoryBytes, MemorySwap: spec.memoryBytes }),
            ...(spec.pidsLimit === undefined ? {} : { PidsLimit: spec.pidsLimit }),
            Privileged: false,
            CapDrop: ["NET_RAW", "MKNOD", "AUDIT_WRITE", "SETFCAP"],
            SecurityOpt: ["no-new-privileges"],
            // tini as pid 1 reaps the zombies that agentd's children leave.
            Init: true,
          },
          abortSignal: signal,
        });
        return container.id;
      }),
    startContainer: (id, signal) =>
      call(`start container ${id}`, signal, async () => {
        await docker.getContainer(id).start({ abortSignal: signal });
      }),
    pauseContainer: (id, signal) =>
      call(`pause container ${id}`, signal, async () => {
        await docker.getContainer(id).pause({ abortSignal: signal });
      }),
    unpauseContainer: (id, signal) =>
      call(`unpause container ${id}`, signal, async () => {
        await docker.getContainer(id).unpause({ abortSignal: signal });
      }),
    removeContainer: async (id, signal) => {
      try {
        await call(`remove container ${id}`, signal, () =>
          docker.getContainer(id).remove({ force: true, v: true, abortSignal: signal }),
        );
        return true;
      } catch (error) {
        if (isDockerNotFound(error)) return false;
        throw error;
      }
    },
    listContainers: (labels, signal) =>
      call("list containers", signal, async () => {
        const label = Object.entries(labels).map(([name, value]) => `${name}=${value}`);
        const containers = await docker.listContainers({ all: true, filters: { label }, abortSignal: signal });
        return containers.map((container) => ({
          id: container.Id,
          name: (container.Names[0] ?? "").replace(/^\//, ""),
          state: container.State,
          labels: container.Labels,
        }));
      }),
    createVolume: (name, labels, signal) =>
      call(`create volume ${name}`, signal, async () => {
        await docker.createVolume({ Name: name, Driver: "local", Labels: labels, abortSignal: signal });
      }),
    removeVolume: async (name, signal) => {
      try {
        await call(`remove volume ${name}`, signal, () => docker.getVolume(name).remove({ abortSignal: signal }));
        return true;
      } catch (error) {
        if (isDockerNotFound(error)) return false;
        throw error;
      }
    },
  };
}
