import type { Duplex } from "node:stream";
import type { Resources, RuntimeName } from "@ciab/protocol";
import type { DataKey } from "../data-key.js";
import type { Logger } from "../logger.js";
import type { ReverseChannelHub } from "./ec2/reverse-hub.js";

/** What a runtime needs to start one machine for one sandbox. */
export interface MachineSpec {
  sandboxID: string;
  /** The owning workspace; backends with per-workspace settings (ec2) look them up by it. */
  workspaceID?: string;
  /** Human name; backends may show it (container name, EC2 `Name` tag). */
  name: string;
  /** The image to boot; the runtime's default image when undefined. */
  image: string | undefined;
  /** Environment every process in the sandbox starts with. */
  env: Record<string, string>;
  resources: Resources;
  network: "none" | "host";
  /** A persistent volume to mount at /workspace instead of a fresh dir (`capabilities.volumes`). */
  volume?: VolumeHandle;
  /** A headless session the machine's own entrypoint runs as its job (`capabilities.headlessJobs`). */
  job?: MachineJob;
}

/** How a machine that ran a job ended, in its backend's words. */
export interface MachineJobEnd {
  /** The job container's exit code, when the backend kept one. */
  exitCode: number | undefined;
  /** Why it stopped (ECS's stopCode and stoppedReason). */
  stopCode: string | undefined;
  reason: string | undefined;
}

/**
 * Seed 002's one task per prompt: the machine starts with the prompt and the agent's selection in its
 * environment, and its entrypoint runs the agent once ciab has prepared the work dir (docs/decisions/0038).
 */
export interface MachineJob {
  prompt: string;
  /** The agent's selection (`JOB_PROVIDER`, `JOB_MODEL`): nothing secret, it is part of the task's description. */
  env: Record<string, string>;
}

/** A user's persistent volume as a runtime knows it: its id and what `createVolume` answered. */
export interface VolumeHandle {
  volumeID: string;
  details: Record<string, unknown>;
}

/** A backend volume labeled as this installation's. */
export interface ManagedVolume {
  /** The backend's id (an EBS volume id). */
  handle: string;
  /** From its labels; undefined when a label is missing. */
  volumeID: string | undefined;
  workspaceID: string | undefined;
  userID: string | undefined;
}

/** What a runtime needs to make a volume; owners go into its labels or tags. */
export interface VolumeSpec {
  volumeID: string;
  workspaceID: string;
  userID: string;
  /** The size asked for, already bounded by the server's maximum (`capabilities.volumeSize`). */
  sizeGiB?: number;
}

/**
 * A machine a runtime started. `details` is persisted with the sandbox so that a restarted control plane
 * can reach the same machine again; keep it to plain JSON. Keys starting with `sealed` hold secrets sealed
 * with the data key; the sandbox service drops them once the machine is destroyed.
 */
export interface Machine {
  /** The backend's own id: a container id, an instance id, the pid of a jail. */
  machineID: string;
  sandboxID: string;
  details: Record<string, unknown>;
}

/** A machine found in the backend that carries our labels; used by the reconciler. */
export interface ManagedMachine {
  machineID: string;
  sandboxID: string;
  state: "running" | "paused" | "stopped" | "unknown";
  details: Record<string, unknown>;
  /**
   * False when these details cannot reach the machine (ec2's SSH key exists only in the sandbox's row), so
   * a sandbox whose row never recorded its machine cannot adopt it and the orphan sweep takes it instead.
   */
  adoptable?: boolean;
}

export interface RuntimeCapabilities {
  pause: boolean;
  /** cpus, memory_mb and pids limits. */
  resourceLimits: boolean;
  /** `network: "host"`. */
  hostNetwork: boolean;
  /** Any image name (false: the runtime boots one fixed root, e.g. local). */
  images: boolean;
  /** `createVolume`, `deleteVolume` and `MachineSpec.volume`: persistent work dirs. */
  volumes?: boolean;
  /** `VolumeSpec.sizeGiB`: a volume made to the size a request asks (else the runtime's config decides). */
  volumeSize?: boolean;
  /** `consoleOutput`: what the machine printed on its serial console (ec2's GetConsoleOutput). */
  consoleOutput?: boolean;
  /**
   * A sandbox env may set what the host's dynamic loader reads (`LD_PRELOAD`, `GLIBC_TUNABLES`…): false
   * where that env is the environment of a program the runtime starts on the host (local's bwrap, as root).
   */
  loaderEnvironment: boolean;
  /** `MachineSpec.job`: the machine's entrypoint runs a headless session's agent as its own job (fargate). */
  headlessJobs?: boolean;
}

export interface ProvisionOptions {
  signal: AbortSignal;
  /** Called with a short human sentence at each long step (building an image, booting). */
  onProgress?: (message: string) => void;
}

/**
 * A sandbox backend. It starts, pauses, resumes and destroys machines and opens the agent channel to
 * ciab-agentd inside them; it never runs tools itself. The core (runtime-registry.ts) wraps each runtime
 * once with logging, timing and the agentd readiness wait, so implementations stay small.
 * Calls the backend cannot serve throw CiabError `capability_unsupported`; backend failures throw
 * CiabError `runtime_error` with the backend's own message and a `cause`.
 */
export interface Runtime {
  readonly name: RuntimeName;
  readonly capabilities: RuntimeCapabilities;
  /** The image used when a sandbox names none. */
  readonly defaultImage: string;

  /**
   * Starts a machine running agentd and returns once the backend reports it started. agentd may still be
   * booting: the core waits for it through `connectAgent`. On failure it removes what it created.
   */
  provision(spec: MachineSpec, options: ProvisionOptions): Promise<Machine>;

  /** Freezes every process of the machine; its files and memory stay. */
  pause(machine: Machine, signal: AbortSignal): Promise<void>;

  /** Undoes `pause`. */
  resume(machine: Machine, signal: AbortSignal): Promise<void>;

  /** Removes the machine and everything the runtime made for it. Succeeds when it is already gone. */
  destroy(machine: Machine, signal: AbortSignal): Promise<void>;

  /** Every machine of this installation that the backend still has, whatever its sandbox's state. */
  listManaged(signal: AbortSignal): Promise<ManagedMachine[]>;

  /**
   * Opens a new duplex byte stream to agentd in the machine (agentd speaks HTTP/2 on it). Rejects at once
   * when agentd is not listening yet, so the caller can retry.
   */
  connectAgent(machine: Machine): Promise<Duplex>;

  /**
   * How a machine made with a job (`capabilities.headlessJobs`) ended; undefined while it runs or when it
   * ran none. Read when its agentd can no longer say.
   */
  jobEnd?(machine: Machine, signal: AbortSignal): Promise<MachineJobEnd | undefined>;

  /**
   * Stops the job of a machine made with one (`capabilities.headlessJobs`) when the control plane ended its
   * session, with `reason` in the backend's record of the stop; the machine ends with it. Answers whether
   * the machine ran a job, now stopped or stopping; nothing is sent for one already stopping (the first
   * reason stays) or made without a job.
   */
  stopJob?(machine: Machine, reason: string, signal: AbortSignal): Promise<boolean>;

  /**
   * The tail of what the machine printed on its console (boot messages, cloud-init), written by the machine
   * and so untrusted text, at most `maximumConsoleOutputBytes`. Present when `capabilities.consoleOutput`.
   */
  consoleOutput?(machine: Machine, signal: AbortSignal): Promise<string>;

  /**
   * The command line that opens a shell in the machine with the backend's own tools, for a person who has
   * access to the backend (fargate: `aws ecs execute-command`); absent where ciab's attach is the only way.
   */
  shellCommand?(machine: Machine): string[];

  /**
   * Makes an empty persistent volume that a later `provision` mounts at /workspace; answers its details
   * (plain JSON, kept in the store). Present when `capabilities.volumes`.
   */
  createVolume?(spec: VolumeSpec, signal: AbortSignal): Promise<Record<string, unknown>>;

  /** Deletes a volume no machine mounts. Succeeds when it is already gone. Present when `capabilities.volumes`. */
  deleteVolume?(volume: VolumeHandle, signal: AbortSignal): Promise<void>;

  /**
   * This installation's volumes on the backend, as their labels name them, so that the reconciler can report
   * those no store row owns (it never deletes them: they hold a user's files).
   */
  listManagedVolumes?(signal: AbortSignal): Promise<ManagedVolume[]>;

  /** Releases clients and timers of the runtime itself (not the machines). */
  close(): Promise<void>;
}

/** What every runtime factory receives besides its own config section. */
export interface RuntimeDependencies {
  /** The control plane's data dir; runtimes keep per-sandbox files under `<dataDirectory>/sandboxes/<id>`. */
  dataDirectory: string;
  /** Labels every machine so that installations sharing a backend never touch each other's machines. */
  installationID: string;
  /** The bundled agentd (one .js file), mounted read-only into every machine. */
  agentdBundlePath: string;
  /** The Node binary that runs agentd inside machines (this process's own by default). */
  nodeBinaryPath: string;
  /**
   * Host dir of tools shared by every machine (agent CLIs installed with npm), mounted read-only at
   * `/opt/ciab/tools`; its `node_modules/.bin` is on every machine's PATH.
   */
  toolsDirectory: string;
  logger: Logger;
  /** Seals what a runtime keeps in machine details that must stay secret (ec2's SSH keys). */
  dataKey?: DataKey;
  /**
   * Short-lived signed URLs from which a machine downloads what it runs (ec2 on a plain AMI: node, agentd, the
   * tools dir) and, once, its config. Absent without `[server] public_url`.
   */
  machineDownloads?: MachineDownloadSource;
  /** Where agentd of an ec2 sandbox with `channel = "reverse"` dials in; absent without `[server] public_url`. */
  reverseChannels?: ReverseChannelHub;
}

export interface MachineDownloads {
  node: string;
  agentd: string;
  /** The host's tools dir (agent CLIs) as a tarball, to unpack at `/opt/ciab/tools`. */
  tools: string;
}

/** What a machine fetches at boot instead of carrying it in its user-data. */
export interface MachineConfig {
  /** The sandbox's env, given to every process it starts. */
  env: Record<string, string>;
}

export interface MachineDownloadSource {
  /** Signed URLs of node, agentd and the tools tarball for one sandbox's machine. */
  files(sandboxID: string): MachineDownloads;
  /** A signed URL that serves `config` once, until it expires; replaces the sandbox's earlier offer. */
  offerConfig(sandboxID: string, config: MachineConfig): string;
  /** Drops the sandbox's unspent offer (its machine is gone). */
  withdrawConfig(sandboxID: string): void;
}

export type RuntimeFactory<Config> = (config: Config, dependencies: RuntimeDependencies) => Runtime;

/** The most console output a runtime hands back (EC2 itself keeps the last 64 KiB). */
export const maximumConsoleOutputBytes = 64 * 1024;

/** Machine details keys with this prefix are secrets (see `Machine`). */
export const sealedDetailPrefix = "sealed";

/** Labels (docker) and tags (ec2) on every machine. */
export const machineLabels = {
  managed: "ciab-managed",
  sandboxID: "ciab-sandbox-id",
  installationID: "ciab-installation-id",
  /** On volumes: whose they are. */
  workspaceID: "ciab-workspace-id",
  userID: "ciab-user-id",
  volumeID: "ciab-volume-id",
} as const;
