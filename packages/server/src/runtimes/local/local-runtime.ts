import { constants } from "node:fs";
import { chown, mkdir, open, readdir, rm, rmdir, unlink } from "node:fs/promises";
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
import { loaderVariables } from "../loader-environment.js";
import { agentSocketAddress, connectUnixSocket, removeAgentSocketLink } from "./agent-socket.js";
import { bwrapArguments, environmentArguments, inspectHostLayout, machineEnvironment, type HostLayout } from "./bwrap-arguments.js";
import { firstInputFD, spawnGated } from "./gated-spawn.js";
import {
  createJailCgroup,
  detectJailCgroups,
  jailCgroupProcesses,
  joinJailCgroup,
  listJailCgroups,
  recordedJailCgroups,
  removeJailCgroup,
  type JailCgroups,
} from "./jail-cgroups.js";
import { claimJailUser, releaseJailUser } from "./jail-users.js";
import { gatewaySocketName, machinePath, sandboxPaths, type SandboxPaths } from "./machine-layout.js";
import {
  readLocalMachine,
  writeLocalMachine,
  type LocalMachineDetails,
  type ProvisionalLocalMachineFile,
} from "./local-machine-file.js";
import { isSameProcessAlive, listDescendants, listJailProcesses, readProcessStat, signalProcess, waitUntil } from "./process-tree.js";
import { seccompProgram } from "./seccomp-filter.js";
import { WorkspaceImagePool } from "./workspace-image-pool.js";
import { createLocalVolume, deleteLocalVolume, localVolumePaths, mountLocalVolume } from "./persistent-volume.js";
import { mountRunDirectory, mountWorkspaceVolume, removeWorkspaceVolume, unmountIfMounted } from "./workspace-volume.js";

/** `image` names a local sandbox may give: the host's own root. */
const hostImage = "host";
const mebibyte = 1024 * 1024;

/** What the runtime learns about this host once, at its first provision or listing. */
interface HostSetup {
  layout: HostLayout;
  /** Where jails' cgroups go; undefined when no hierarchy is writable (limits off, warned once). */
  cgroups: JailCgroups | undefined;
  /** Root can give each jail a host uid of its own and a loop-mounted workspace. */
  isRoot: boolean;
}

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
      const [command, args, env, extraInput] = await this.#command(spec, paths, setup, record.jailUID);
      // A jail's output goes to its own sized run dir, so no amount of it fills the host's disk.
      const logPath = record.jailUID === undefined ? paths.log : paths.jailLog;
      const gated = await spawnGated(command, args, { env, cwd: paths.directory, logPath, extraInput });
      const stat = await readProcessStat(gated.pid);
      spawned = { ...gated, startTime: stat?.startTime };
      if (record.cgroups !== undefined) await joinJailCgroup(record.cgroups, gated.pid);
      if (stat === undefined) throw new CiabError("runtime_error", `the sandbox process exited at once: ${await logTail(paths)}`);
      const { provisional: _, sandboxID: __, installationID: ___, ...resources } = record;
      const details: LocalMachineDetails = {
        ...resources,
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
      await this.#removeSandbox(paths, spec.sandboxID, { ...record, ...known });
      if (error instanceof CiabError || options.signal.aborted) throw error;
      throw new CiabError("runtime_error", `cannot start the sandbox: ${(error as Error).message}`, { cause: error });
    }
  }

  async pause(machine: Machine, signal: AbortSignal): Promise<void> {
    const { pid } = await this.#liveDetails(machine);
    signal.throwIfAborted();
    const stopped: number[] = [];
    // Processes may fork while we stop their parents, so look again until a pass finds nobody new.
    for (let pass = 0; pass < 10; pass++) {
      const fresh = (await listDescendants(pid)).filter((process) => !stopped.includes(process.pid));
      if (fresh.length === 0) break;
      for (const process of fresh.reverse()) {
        signalProcess(process.pid, "SIGSTOP");
        stopped.push(process.pid);
      }
    }
    signalProcess(pid, "SIGSTOP");
    stopped.push(pid);
    const frozen = await waitUntil(async () => {
      const states = await Promise.all(stopped.map((each) => readProcessStat(each)));
      return states.every((stat) => stat === undefined || stat.state === "T" || stat.state === "t" || stat.state === "Z");
    }, 2_000);
    if (!frozen) throw new CiabError("runtime_error", `the processes of sandbox ${machine.sandboxID} did not stop`);
  }

  async resume(machine: Machine, signal: AbortSignal): Promise<void> {
    const { pid } = await this.#liveDetails(machine);
    signal.throwIfAborted();
    // The reverse of pause: the jail's root first, then its descendants, parents before children.
    signalProcess(pid, "SIGCONT");
    for (const process of await listDescendants(pid)) signalProcess(process.pid, "SIGCONT");
  }

  async destroy(machine: Machine, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const paths = sandboxPaths(this.dependencies.dataDirectory, machine.sandboxID);
    // Our record on disk first: it names what was made even when the caller's copy predates it.
    const file = await readLocalMachine(paths.machineFile);
    const recorded = file !== undefined && file.installationID === this.dependencies.installationID ? ("details" in file ? file.details : file) : {};
    await this.#removeSandbox(paths, machine.sandboxID, { ...machine.details, ...recorded });
  }

  async listManaged(signal: AbortSignal): Promise<ManagedMachine[]> {
    const setup = await this.#hostSetup();
    const sandboxesDirectory = path.resolve(this.dependencies.dataDirectory, "sandboxes");
    const machines: ManagedMachine[] = [];
    const recorded = new Set<string>();
    for (const name of await readdir(sandboxesDirectory).catch(() => [] as string[])) {
      signal.throwIfAborted();
      const file = await readLocalMachine(path.join(sandboxesDirectory, name, "machine.json"));
      // Another installation's, or this one's under the other isolation: never ours to report or reap.
      if (file === undefined || file.sandboxID !== name || file.installationID !== this.dependencies.installationID) continue;
      const paths = sandboxPaths(this.dependencies.dataDirectory, name);
      if ("provisional" in file) {
        if (file.isolation !== this.config.isolation) continue;
        recorded.add(name);
        // Its process, if it ever got spawned, never passed the gate; only what was made for it is left.
        const { provisional: _, sandboxID: __, installationID: ___, ...resources } = file;
        const details = { ...resources, sandboxDirectory: paths.directory, socketPath: paths.socket };
        machines.push({ machineID: `provisional-${name}`, sandboxID: name, state: "stopped", details });
        continue;
      }
      if (file.details.isolation !== this.config.isolation) continue;
      recorded.add(name);
      const stat = await readProcessStat(file.details.pid);
      const alive = stat !== undefined && stat.startTime === file.details.startTime && stat.state !== "Z";
      // A jail whose root died is reported `stopped` (what is left of it in its cgroup included), so the
      // reconciler fails its sandbox and destroys the rest.
      const state = !alive ? "stopped" : stat.state === "T" || stat.state === "t" ? "paused" : "running";
      machines.push({ machineID: file.machineID, sandboxID: file.sandboxID, state, details: { ...file.details } });
    }
    // A cgroup of ours with no record (its sandbox dir lost): the processes in it are a jail we started.
    if (setup.cgroups !== undefined) {
      for (const [sandboxID, cgroups] of await listJailCgroups(setup.cgroups)) {
        if (recorded.has(sandboxID) || !isSafeSandboxID(sandboxID)) continue;
        const paths = sandboxPaths(this.dependencies.dataDirectory, sandboxID);
        const state = (await jailCgroupProcesses(cgroups)).length > 0 ? "running" : "stopped";
        const details = { isolation: this.config.isolation, cgroups, sandboxDirectory: paths.directory, socketPath: paths.socket };
        machines.push({ machineID: `cgroup-${sandboxID}`, sandboxID, state, details });
      }
    }
    return machines;
  }

  async connectAgent(machine: Machine): Promise<Duplex> {
    const paths = sandboxPaths(this.dependencies.dataDirectory, machine.sandboxID);
    try {
      return await connectUnixSocket(paths.socket);
    } catch (error) {
      // A jail that died will never listen: say so now instead of letting the caller wait out its timeout.
      const details = parseDetails(machine);
      if (await isSameProcessAlive(details.pid, details.startTime)) throw error;
      throw new CiabError("runtime_error", `agentd of sandbox ${machine.sandboxID} exited: ${await logTail(paths)}`, {
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
    this.#setup ??= (async () => {
      const isRoot = process.getuid?.() === 0;
      const leaf = `${this.dependencies.installationID}-${this.config.isolation}`;
      const [layout, cgroups] = await Promise.all([inspectHostLayout(), detectJailCgroups(leaf)]);
      if (cgroups === undefined) this.logger.warn("no writable cgroup hierarchy: sandboxes run without memory, pids and cpu limits");
      if (!isRoot && this.config.isolation === "bwrap") {
        this.logger.warn("the server is not root: jails run as its own uid, and /workspace has no size quota");
      }
      return { layout, cgroups, isRoot };
    })();
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

  /**
   * Kills every process of a sandbox (those of its cgroup, and of its root's session and tree) and removes
   * all that was made for it, from what our record says. Throws, retryably, if processes outlive the kill.
   */
  async #removeSandbox(paths: SandboxPaths, sandboxID: string, recorded: Record<string, unknown>): Promise<void> {
    const cgroups = recordedJailCgroups(recorded.cgroups, this.dependencies.installationID, sandboxID);
    const { pid, startTime } = recorded;
    const known = typeof pid === "number" && typeof startTime === "number" ? { pid, startTime } : undefined;
    const emptied = await waitUntil(async () => {
      const processes = known === undefined ? [] : (await listJailProcesses(known.pid, known.startTime)).filter((each) => each.state !== "Z");
      for (const each of processes) signalProcess(each.pid, "SIGKILL");
      const inCgroup = await jailCgroupProcesses(cgroups);
      for (const each of inCgroup) signalProcess(each, "SIGKILL");
      return processes.length === 0 && inCgroup.length === 0;
    }, 5_000);
    if (!emptied || !(await removeJailCgroup(cgroups))) {
      throw new CiabError("runtime_error", `the processes of sandbox ${sandboxID} did not exit`, { retryable: true });
    }
    // Whatever the record says: the host's mount table tells what is still mounted.
    await removeWorkspaceVolume(paths.workspaceVolume, paths.workspace);
    await unmountIfMounted(paths.run);
    if (typeof recorded.jailUID === "number") await releaseJailUser(this.dependencies.dataDirectory, recorded.jailUID, sandboxID);
    await rm(paths.directory, { recursive: true, force: true, maxRetries: 3 });
    await removeAgentSocketLink(paths.socket);
  }

  async #command(
    spec: MachineSpec,
    paths: SandboxPaths,
    setup: HostSetup,
    jailUID: number | undefined,
  ): Promise<[string, string[], NodeJS.ProcessEnv, Buffer[]]> {
    const { agentdBundlePath, nodeBinaryPath } = this.dependencies;
    if (this.config.isolation === "none") {
      const socket = await agentSocketAddress(paths.socket);
      const hostPath = `${path.join(this.dependencies.toolsDirectory, "node_modules", ".bin")}:${path.dirname(nodeBinaryPath)}:${process.env.PATH ?? machinePath}`;
      const env = { PATH: hostPath, HOME: paths.workspace, TERM: "xterm-256color", LANG: "C.UTF-8" };
      const gatewaySocket = await agentSocketAddress(path.join(paths.run, gatewaySocketName));
      // Without a jail every agentd shares the host's /tmp: each keeps its persisted output in its own dir.
      const stateDirectory = path.join(paths.directory, "agentd-state");
      const args = [
        agentdBundlePath,
        "--socket",
        socket,
        "--workspace-root",
        paths.workspace,
        "--gateway-socket",
        gatewaySocket,
        "--state-dir",
        stateDirectory,
        "--sandbox-id",
        spec.sandboxID,
      ];
      return [nodeBinaryPath, args, { ...env, ...spec.env }, []];
    }
    // The gate refuses these first; bwrap and setpriv run on the host, as root, with exactly this environment.
    const loaderNames = loaderVariables(spec.env);
    if (loaderNames.length > 0) throw new CiabError("capability_unsupported", `a jail's env cannot set ${loaderNames.join(", ")}`);
    const args = bwrapArguments({
      host: setup.layout,
      sandboxDirectory: paths.directory,
      agentdBundlePath,
      nodeBinaryPath,
      toolsDirectory: this.dependencies.toolsDirectory,
      sandboxID: spec.sandboxID,
      hostname: `ciab-${spec.sandboxID.toLowerCase().replace(/[^a-z0-9]/g, "").slice(-12)}`,
      network: spec.network,
      tmpSizeBytes: this.config.tmp_size_mb * mebibyte,
      seccompFD: firstInputFD,
      environmentFD: firstInputFD + 1,
      jailUser: jailUID === undefined ? undefined : { uid: jailUID, bwrapPath: this.config.bwrap_path },
    });
    // The host side of the start (gate shell, bwrap, setpriv) runs with the server's PATH alone.
    const hostEnvironment = { PATH: process.env.PATH ?? machinePath };
    return [this.config.bwrap_path, args, hostEnvironment, [seccompProgram(), environmentArguments(machineEnvironment(spec.env))]];
  }

  async #liveDetails(machine: Machine): Promise<LocalMachineDetails> {
    const details = parseDetails(machine);
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

function parseDetails(machine: Machine): LocalMachineDetails {
  const { pid, startTime } = machine.details;
  if (typeof pid !== "number" || typeof startTime !== "number") {
    throw new CiabError("runtime_error", `machine ${machine.machineID} has no local pid and start time`);
  }
  return machine.details as unknown as LocalMachineDetails;
}

function isSafeSandboxID(sandboxID: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(sandboxID) && !sandboxID.includes("..");
}

/**
 * The last KiB of agentd's log. A jail's log sits in its run dir, where the jail may have put anything in
 * its place: the final component is never followed, a FIFO never waited on, and only a regular file read.
 */
async function logTail(paths: SandboxPaths): Promise<string> {
  const tailBytes = 1_024;
  for (const file of [paths.jailLog, paths.log]) {
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
    if (handle === undefined) continue;
    try {
      const status = await handle.stat();
      if (!status.isFile()) continue;
      const buffer = Buffer.alloc(Math.min(status.size, tailBytes));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, Math.max(0, status.size - tailBytes));
      return buffer.subarray(0, bytesRead).toString("utf8").trim() || `nothing in ${file}`;
    } catch {
      continue;
    } finally {
      await handle.close();
    }
  }
  return "no agentd log";
}
