import { chown, mkdir, rmdir, unlink } from "node:fs/promises";
import path from "node:path";
import type { Duplex } from "node:stream";
import { CiabError } from "@ciab/protocol";
import type { LocalRuntimeConfig } from "../../config/config-schema.js";
import type { Logger } from "../../logger.js";
import type {
  Machine,
  MachineSpec,
  ManagedMachine,
  ProvisionOptions,
  Runtime,
  RuntimeCapabilities,
  RuntimeDependencies,
  VolumeHandle,
  VolumeSpec,
} from "../runtime.js";
import { connectUnixSocket } from "./agent-socket.js";
import { agentdLogTail } from "./agentd-log.js";
import { spawnGated } from "./gated-spawn.js";
import { detectHostSetup, type HostSetup } from "./host-setup.js";
import { createJailCgroup, joinJailCgroup } from "./jail-cgroups.js";
import { freezeJail, thawJail } from "./jail-freeze.js";
import { claimJailUser } from "./jail-users.js";
import { sandboxPaths, type SandboxPaths } from "./machine-layout.js";
import {
  localMachineDetails,
  provisionalResources,
  readLocalMachine,
  writeLocalMachine,
  type LocalMachineDetails,
  type ProvisionalLocalMachineFile,
} from "./local-machine-file.js";
import { listLocalMachines } from "./local-machine-list.js";
import { isSameProcessAlive, readProcessStat } from "./process-tree.js";
import { sandboxCommand } from "./sandbox-command.js";
import { removeSandbox } from "./sandbox-removal.js";
import { WorkspaceImagePool } from "./workspace-image-pool.js";
import { createLocalVolume, deleteLocalVolume, localVolumePaths, mountLocalVolume } from "./persistent-volume.js";
import { mountRunDirectory, mountWorkspaceVolume } from "./workspace-volume.js";

/** `image` names a local sandbox may give: the host's own root. */
const hostImage = "host";
const mebibyte = 1024 * 1024;

/**
 * Sandboxes as bubblewrap jails on this host (or, with `isolation = "none"`, plain processes). Each jail runs
 * agentd detached from the control plane, so it survives a restart. The control plane keeps its own record
 * of each jail (`machine.json`, see local-machine-file.ts) and its cgroup, and decides what a machine is,
 * whether it lives and what to kill from those alone.
 */
export class LocalRuntime implements Runtime {
  readonly name = "local" as const;
  readonly capabilities: RuntimeCapabilities = {
    pause: true,
    resourceLimits: true,
    hostNetwork: true,
    images: false,
    loaderEnvironment: false,
    volumes: true,
  };
  readonly defaultImage = hostImage;
  #setup: Promise<HostSetup> | undefined;
  readonly #workspaceImages: WorkspaceImagePool;

  constructor(
    private readonly config: LocalRuntimeConfig,
    private readonly dependencies: RuntimeDependencies,
    private readonly logger: Logger,
  ) {
    this.#workspaceImages = new WorkspaceImagePool(dependencies.dataDirectory);
  }

  async provision(spec: MachineSpec, options: ProvisionOptions): Promise<Machine> {
    if (spec.image !== undefined && spec.image !== hostImage) {
      throw new CiabError("capability_unsupported", `the local runtime boots the host's root only, not ${spec.image}`);
    }
    const setup = await this.#hostSetup();
    if (setup.cgroups === undefined && Object.values(spec.resources).some((value) => value !== undefined)) {
      throw new CiabError("capability_unsupported", "no cgroup hierarchy is writable here: the local runtime cannot limit cpus, memory or pids");
    }
    options.signal.throwIfAborted();
    const paths = sandboxPaths(this.dependencies.dataDirectory, spec.sandboxID);
    await mkdir(paths.directory, { recursive: true, mode: 0o700 });
    await mkdir(paths.workspace, { recursive: true, mode: 0o700 });
    await mkdir(paths.run, { recursive: true, mode: 0o700 });
    await unlink(paths.socket).catch(() => undefined);
    const installationID = this.dependencies.installationID;
    const record: ProvisionalLocalMachineFile = { provisional: true, sandboxID: spec.sandboxID, installationID, isolation: this.config.isolation };
    let spawned: { pid: number; startTime: number | undefined; cancel(): void } | undefined;
    try {
      // Each thing made is recorded before it is made, so a destroy after a crash at any step finds it.
      await writeLocalMachine(paths.machineFile, record);
      if (this.config.isolation === "bwrap" && setup.isRoot) {
        record.jailUID = await claimJailUser(this.dependencies.dataDirectory, this.#uidRange(), spec.sandboxID);
        await writeLocalMachine(paths.machineFile, record);
      }
      if (setup.cgroups !== undefined) {
        record.cgroups = setup.cgroups.bases.map((base) => path.join(base, spec.sandboxID));
        await writeLocalMachine(paths.machineFile, record);
        await createJailCgroup(setup.cgroups, spec.sandboxID, this.#limits(spec));
      }
      if (spec.volume !== undefined) await this.#mountVolume(spec.volume, paths, record, setup);
      if (record.jailUID !== undefined) await this.#prepareJailDirectories(paths, record);
      options.signal.throwIfAborted();
      const { command, args, env, extraInput } = await sandboxCommand({
        spec,
        paths,
        setup,
        jailUID: record.jailUID,
        config: this.config,
        dependencies: this.dependencies,
      });
      // A jail's output goes to its own sized run dir, so no amount of it fills the host's disk.
      const logPath = record.jailUID === undefined ? paths.log : paths.jailLog;
      const gated = await spawnGated(command, args, { env, cwd: paths.directory, logPath, extraInput });
      const stat = await readProcessStat(gated.pid);
      spawned = { ...gated, startTime: stat?.startTime };
      if (record.cgroups !== undefined) await joinJailCgroup(record.cgroups, gated.pid);
      if (stat === undefined) throw new CiabError("runtime_error", `the sandbox process exited at once: ${await agentdLogTail(paths)}`);
      const details: LocalMachineDetails = {
        ...provisionalResources(record),
        pid: gated.pid,
        startTime: stat.startTime,
        sandboxDirectory: paths.directory,
        socketPath: paths.socket,
      };
      const machine: Machine = { machineID: String(gated.pid), sandboxID: spec.sandboxID, details: { ...details } };
      await writeLocalMachine(paths.machineFile, { ...machine, installationID, details });
      gated.release();
      this.logger.debug({ sandboxID: spec.sandboxID, pid: gated.pid, isolation: this.config.isolation, uid: record.jailUID }, "sandbox process started");
      return machine;
    } catch (error) {
      spawned?.cancel();
      const known = spawned?.startTime === undefined ? {} : { pid: spawned.pid, startTime: spawned.startTime };
      await removeSandbox(paths, spec.sandboxID, { ...record, ...known }, this.dependencies);
      if (error instanceof CiabError || options.signal.aborted) throw error;
      throw new CiabError("runtime_error", `cannot start the sandbox: ${(error as Error).message}`, { cause: error });
    }
  }

  async pause(machine: Machine, signal: AbortSignal): Promise<void> {
    const { pid } = await this.#liveDetails(machine);
    signal.throwIfAborted();
    await freezeJail(pid, machine.sandboxID);
  }

  async resume(machine: Machine, signal: AbortSignal): Promise<void> {
    const { pid } = await this.#liveDetails(machine);
    signal.throwIfAborted();
    await thawJail(pid);
  }

  async destroy(machine: Machine, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const paths = sandboxPaths(this.dependencies.dataDirectory, machine.sandboxID);
    // Our record on disk first: it names what was made even when the caller's copy predates it.
    const file = await readLocalMachine(paths.machineFile);
    const recorded = file !== undefined && file.installationID === this.dependencies.installationID ? ("details" in file ? file.details : file) : {};
    await removeSandbox(paths, machine.sandboxID, { ...machine.details, ...recorded }, this.dependencies);
  }

  async listManaged(signal: AbortSignal): Promise<ManagedMachine[]> {
    const setup = await this.#hostSetup();
    return listLocalMachines({ dependencies: this.dependencies, isolation: this.config.isolation, cgroups: setup.cgroups, signal });
  }

  async connectAgent(machine: Machine): Promise<Duplex> {
    const paths = sandboxPaths(this.dependencies.dataDirectory, machine.sandboxID);
    try {
      return await connectUnixSocket(paths.socket);
    } catch (error) {
      // A jail that died will never listen: say so now instead of letting the caller wait out its timeout.
      const details = localMachineDetails(machine);
      if (await isSameProcessAlive(details.pid, details.startTime)) throw error;
      throw new CiabError("runtime_error", `agentd of sandbox ${machine.sandboxID} exited: ${await agentdLogTail(paths)}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    await this.#workspaceImages.close();
    const setup = await this.#setup?.catch(() => undefined);
    this.#setup = undefined;
    // Our base cgroups go when no jail is left in them (rmdir refuses a non-empty one).
    for (const base of setup?.cgroups?.bases ?? []) await rmdir(base).catch(() => undefined);
  }

  #hostSetup(): Promise<HostSetup> {
    this.#setup ??= detectHostSetup(this.config, this.dependencies.installationID, this.logger);
    return this.#setup;
  }

  #uidRange() {
    return { base: this.config.jail_uid_base, count: this.config.jail_uid_count };
  }

  #limits(spec: MachineSpec) {
    const memoryMB = spec.resources.memory_mb ?? this.config.default_memory_mb;
    return {
      memoryBytes: memoryMB === undefined ? undefined : memoryMB * mebibyte,
      pids: spec.resources.pids ?? this.config.default_pids,
      cpus: spec.resources.cpus ?? this.config.default_cpus,
    };
  }

  /** Mounts the user's persistent volume at the sandbox's workspace dir (persistent-volume.ts); needs root. */
  async #mountVolume(volume: VolumeHandle, paths: SandboxPaths, record: ProvisionalLocalMachineFile, setup: HostSetup): Promise<void> {
    if (!setup.isRoot) throw new CiabError("capability_unsupported", "persistent volumes on the local runtime need a server running as root");
    record.volumeID = volume.volumeID;
    await writeLocalMachine(paths.machineFile, record);
    await mountLocalVolume(localVolumePaths(this.dependencies.dataDirectory, volume.volumeID), paths.workspace, record.jailUID);
  }

  async createVolume(spec: VolumeSpec, signal: AbortSignal): Promise<Record<string, unknown>> {
    const setup = await this.#hostSetup();
    if (!setup.isRoot) throw new CiabError("capability_unsupported", "persistent volumes on the local runtime need a server running as root");
    signal.throwIfAborted();
    // The jail's quota holds for its volume too: an image of the same size, where jails get a sized workspace.
    const sized = this.config.isolation === "bwrap" && this.config.workspace_size_mb > 0;
    const kind = await createLocalVolume(localVolumePaths(this.dependencies.dataDirectory, spec.volumeID), sized ? this.config.workspace_size_mb * mebibyte : 0);
    return { kind };
  }

  async deleteVolume(volume: VolumeHandle, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await deleteLocalVolume(localVolumePaths(this.dependencies.dataDirectory, volume.volumeID));
  }

  /** Gives the jail's uid its workspace (a sized volume when configured) and its run dir (a small tmpfs). */
  async #prepareJailDirectories(paths: SandboxPaths, record: ProvisionalLocalMachineFile): Promise<void> {
    const uid = record.jailUID!;
    // A persistent volume is mounted and given to the jail's uid already (#mountVolume).
    if (record.volumeID === undefined && this.config.workspace_size_mb > 0) {
      record.workspaceVolume = true;
      await writeLocalMachine(paths.machineFile, record);
      await mountWorkspaceVolume(this.#workspaceImages, paths.workspaceVolume, paths.workspace, this.config.workspace_size_mb * mebibyte, uid);
    } else if (record.volumeID === undefined) {
      await chown(paths.workspace, uid, uid);
    }
    await mountRunDirectory(paths.run, uid);
  }

  async #liveDetails(machine: Machine): Promise<LocalMachineDetails> {
    const details = localMachineDetails(machine);
    if (!(await isSameProcessAlive(details.pid, details.startTime))) {
      throw new CiabError("runtime_error", `the jail of sandbox ${machine.sandboxID} is gone`);
    }
    return details;
  }
}

export function createLocalRuntime(config: LocalRuntimeConfig, dependencies: RuntimeDependencies): Runtime {
  const logger = dependencies.logger.child({ runtime: "local" });
  if (config.isolation === "none") logger.warn("isolation is off: sandbox processes run unconfined on this host");
  return new LocalRuntime(config, dependencies, logger);
}
