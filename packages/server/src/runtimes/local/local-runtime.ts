import { spawn } from "node:child_process";
import { mkdir, open, readFile, readdir, rm, unlink } from "node:fs/promises";
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
} from "../runtime.js";
import { agentSocketAddress, connectUnixSocket, removeAgentSocketLink } from "./agent-socket.js";
import { bwrapArguments, inspectHostLayout, machineEnvironment, type HostLayout } from "./bwrap-arguments.js";
import { gatewaySocketName, machinePath, sandboxPaths, type SandboxPaths } from "./machine-layout.js";
import { readLocalMachine, writeLocalMachine, type LocalMachineDetails } from "./local-machine-file.js";
import {
  isSameProcessAlive,
  listDescendants,
  listJailProcesses,
  listSandboxJailProcesses,
  listSandboxProcesses,
  readProcessStat,
  type SandboxProcess,
  signalProcess,
  waitUntil,
} from "./process-tree.js";

/** `image` names a local sandbox may give: the host's own root. */
const hostImage = "host";

/**
 * Sandboxes as bubblewrap jails on this host (or, with `isolation = "none"`, plain processes). Each jail runs
 * agentd detached from the control plane, so it survives a restart; `machine.json` in the sandbox dir and
 * `Machine.details` both record its pid and start time, which together name the process for good.
 */
export class LocalRuntime implements Runtime {
  readonly name = "local" as const;
  readonly capabilities: RuntimeCapabilities = { pause: true, resourceLimits: false, hostNetwork: true, images: false };
  readonly defaultImage = hostImage;
  #hostLayout: Promise<HostLayout> | undefined;

  constructor(
    private readonly config: LocalRuntimeConfig,
    private readonly dependencies: RuntimeDependencies,
    private readonly logger: Logger,
  ) {}

  async provision(spec: MachineSpec, options: ProvisionOptions): Promise<Machine> {
    if (spec.image !== undefined && spec.image !== hostImage) {
      throw new CiabError("capability_unsupported", `the local runtime boots the host's root only, not ${spec.image}`);
    }
    if (Object.values(spec.resources).some((value) => value !== undefined)) {
      throw new CiabError("capability_unsupported", "the local runtime does not limit cpus, memory or pids");
    }
    options.signal.throwIfAborted();
    const paths = sandboxPaths(this.dependencies.dataDirectory, spec.sandboxID);
    await mkdir(paths.workspace, { recursive: true });
    await mkdir(paths.run, { recursive: true });
    await unlink(paths.socket).catch(() => undefined);
    // Before the spawn, so no jail ever runs without a machine.json: a control plane killed before the pid
    // is written leaves this provisional one, and `listManaged` then finds the jail by its argv.
    const installationID = this.dependencies.installationID;
    await writeLocalMachine(paths.machineFile, { provisional: true, sandboxID: spec.sandboxID, installationID });
    let started: { pid: number; startTime: number } | undefined;
    try {
      const [command, args, env] = await this.#command(spec, paths);
      options.signal.throwIfAborted();
      const pid = await spawnDetached(command, args, env, paths);
      const stat = await readProcessStat(pid);
      if (stat !== undefined) started = { pid, startTime: stat.startTime };
      if (stat === undefined || stat.state === "Z") {
        throw new CiabError("runtime_error", `the sandbox process exited at once: ${await logTail(paths.log)}`);
      }
      const details: LocalMachineDetails = {
        pid,
        startTime: stat.startTime,
        isolation: this.config.isolation,
        sandboxDirectory: paths.directory,
        socketPath: paths.socket,
      };
      const machine: Machine = { machineID: String(pid), sandboxID: spec.sandboxID, details: { ...details } };
      await writeLocalMachine(paths.machineFile, { ...machine, installationID, details });
      this.logger.debug({ sandboxID: spec.sandboxID, pid, isolation: this.config.isolation }, "sandbox process started");
      return machine;
    } catch (error) {
      await killSandbox(paths, spec.sandboxID, started);
      await rm(paths.directory, { recursive: true, force: true });
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
    const { pid, startTime } = machine.details;
    // A machine found by argv alone may have no start time worth trusting: the sweep by argv covers it.
    const known = typeof pid === "number" && typeof startTime === "number" ? { pid, startTime } : undefined;
    // Not only when the root is alive: a jail whose root died may still hold processes in its session.
    if (!(await killSandbox(paths, machine.sandboxID, known))) {
      throw new CiabError("runtime_error", `the processes of sandbox ${machine.sandboxID} did not exit`, {
        retryable: true,
      });
    }
    await rm(paths.directory, { recursive: true, force: true, maxRetries: 3 });
    await removeAgentSocketLink(paths.socket);
  }

  async listManaged(signal: AbortSignal): Promise<ManagedMachine[]> {
    const sandboxesDirectory = path.resolve(this.dependencies.dataDirectory, "sandboxes");
    const names = await readdir(sandboxesDirectory).catch(() => [] as string[]);
    const machines: ManagedMachine[] = [];
    // Sandboxes whose machine.json says all there is (ours with a pid, or another installation's).
    const described = new Set<string>();
    const provisional = new Set<string>();
    for (const name of names) {
      signal.throwIfAborted();
      const file = await readLocalMachine(path.join(sandboxesDirectory, name, "machine.json"));
      if (file === undefined) continue;
      if (file.installationID !== this.dependencies.installationID) {
        described.add(name);
        continue;
      }
      if ("provisional" in file) {
        provisional.add(name);
        continue;
      }
      described.add(name);
      const stat = await readProcessStat(file.details.pid);
      const alive = stat !== undefined && stat.startTime === file.details.startTime && stat.state !== "Z";
      // A dead jail whose dir remains is reported `stopped`, so the reconciler can destroy what is left.
      const state = !alive ? "stopped" : stat.state === "T" || stat.state === "t" ? "paused" : "running";
      machines.push({ machineID: file.machineID, sandboxID: file.sandboxID, state, details: { ...file.details } });
    }
    signal.throwIfAborted();
    // Jails of this data dir that machine.json does not name (killed mid-provision, file lost): found by their
    // argv, reported under their oldest process so the reconciler's orphan sweep destroys them.
    const found = new Map<string, SandboxProcess>();
    for (const each of await listSandboxProcesses(sandboxesDirectory)) {
      if (described.has(each.sandboxID)) continue;
      const oldest = found.get(each.sandboxID);
      if (oldest === undefined || each.startTime < oldest.startTime) found.set(each.sandboxID, each);
    }
    for (const [sandboxID, root] of found) {
      const paths = sandboxPaths(this.dependencies.dataDirectory, sandboxID);
      const details: LocalMachineDetails = {
        pid: root.pid,
        startTime: root.startTime,
        isolation: root.isolation,
        sandboxDirectory: paths.directory,
        socketPath: paths.socket,
      };
      const state = root.state === "T" || root.state === "t" ? "paused" : "running";
      machines.push({ machineID: String(root.pid), sandboxID, state, details: { ...details } });
    }
    // A provisional file with no process: the spawn never happened or its jail is gone; only the dir is left.
    for (const sandboxID of provisional) {
      if (found.has(sandboxID)) continue;
      const paths = sandboxPaths(this.dependencies.dataDirectory, sandboxID);
      const details = { isolation: this.config.isolation, sandboxDirectory: paths.directory, socketPath: paths.socket };
      machines.push({ machineID: `provisional-${sandboxID}`, sandboxID, state: "stopped", details });
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
      throw new CiabError("runtime_error", `agentd of sandbox ${machine.sandboxID} exited: ${await logTail(paths.log)}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    this.#hostLayout = undefined;
  }

  async #command(spec: MachineSpec, paths: SandboxPaths): Promise<[string, string[], NodeJS.ProcessEnv]> {
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
      return [nodeBinaryPath, args, { ...env, ...spec.env }];
    }
    this.#hostLayout ??= inspectHostLayout();
    const args = bwrapArguments({
      host: await this.#hostLayout,
      sandboxDirectory: paths.directory,
      agentdBundlePath,
      nodeBinaryPath,
      toolsDirectory: this.dependencies.toolsDirectory,
      sandboxID: spec.sandboxID,
      hostname: `ciab-${spec.sandboxID.toLowerCase().replace(/[^a-z0-9]/g, "").slice(-12)}`,
      network: spec.network,
    });
    return [this.config.bwrap_path, args, machineEnvironment(spec.env)];
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

/** Starts `command` in its own session with output to the sandbox log, not tied to this process. */
async function spawnDetached(command: string, args: string[], env: NodeJS.ProcessEnv, paths: SandboxPaths) {
  const log = await open(paths.log, "a");
  try {
    const child = spawn(command, args, { detached: true, stdio: ["ignore", log.fd, log.fd], env, cwd: paths.workspace });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`${command} has no pid`);
    return child.pid;
  } finally {
    await log.close();
  }
}

/**
 * SIGKILLs every process of a sandbox's jail until none is left; returns whether that took under a few
 * seconds. The jail is the one `known` names and any other this sandbox dir's argv leads to (a jail spawned
 * by a control plane killed before it wrote the pid). Each round looks again, so a process forked while we
 * kill (bwrap cloning its init) is caught too.
 */
async function killSandbox(
  paths: SandboxPaths,
  sandboxID: string,
  known: { pid: number; startTime: number } | undefined,
): Promise<boolean> {
  const sandboxesDirectory = path.dirname(paths.directory);
  return waitUntil(async () => {
    const processes = [
      ...(known === undefined ? [] : await listJailProcesses(known.pid, known.startTime)),
      ...(await listSandboxJailProcesses(sandboxesDirectory, sandboxID)),
    ].filter((each) => each.state !== "Z");
    for (const process of processes) signalProcess(process.pid, "SIGKILL");
    return processes.length === 0;
  }, 5_000);
}

async function logTail(logPath: string): Promise<string> {
  const text = await readFile(logPath, "utf8").catch(() => "");
  return text.slice(-1_000).trim() || `nothing in ${logPath}`;
}
