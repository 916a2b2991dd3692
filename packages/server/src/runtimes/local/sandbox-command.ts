import path from "node:path";
import { CiabError } from "@ciab/protocol";
import type { LocalRuntimeConfig } from "../../config/config-schema.js";
import type { MachineSpec, RuntimeDependencies } from "../runtime.js";
import { loaderVariables } from "../loader-environment.js";
import { agentSocketAddress } from "./agent-socket.js";
import { bwrapArguments, environmentArguments, machineEnvironment } from "./bwrap-arguments.js";
import { firstInputFD } from "./gated-spawn.js";
import type { HostSetup } from "./host-setup.js";
import { gatewaySocketName, machinePath, type SandboxPaths } from "./machine-layout.js";
import { seccompProgram } from "./seccomp-filter.js";

const mebibyte = 1024 * 1024;

/** What `spawnGated` starts for a sandbox. */
export interface SandboxCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Handed to the process on fds from `firstInputFD` on (the seccomp program and the jail's environment). */
  extraInput: Buffer[];
}

export interface SandboxCommandInputs {
  spec: MachineSpec;
  paths: SandboxPaths;
  setup: HostSetup;
  jailUID: number | undefined;
  config: LocalRuntimeConfig;
  dependencies: Pick<RuntimeDependencies, "agentdBundlePath" | "nodeBinaryPath" | "toolsDirectory">;
}

/** agentd under bwrap (as the jail's uid when it has one), or, with `isolation = "none"`, agentd as it is. */
export async function sandboxCommand(inputs: SandboxCommandInputs): Promise<SandboxCommand> {
  return inputs.config.isolation === "none" ? unconfinedCommand(inputs) : jailCommand(inputs);
}

async function unconfinedCommand({ spec, paths, dependencies }: SandboxCommandInputs): Promise<SandboxCommand> {
  const { agentdBundlePath, nodeBinaryPath, toolsDirectory } = dependencies;
  const socket = await agentSocketAddress(paths.socket);
  const hostPath = `${path.join(toolsDirectory, "node_modules", ".bin")}:${path.dirname(nodeBinaryPath)}:${process.env.PATH ?? machinePath}`;
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
  return { command: nodeBinaryPath, args, env: { ...env, ...spec.env }, extraInput: [] };
}

function jailCommand({ spec, paths, setup, jailUID, config, dependencies }: SandboxCommandInputs): SandboxCommand {
  // The gate refuses these first; bwrap and setpriv run on the host, as root, with exactly this environment.
  const loaderNames = loaderVariables(spec.env);
  if (loaderNames.length > 0) throw new CiabError("capability_unsupported", `a jail's env cannot set ${loaderNames.join(", ")}`);
  const args = bwrapArguments({
    host: setup.layout,
    sandboxDirectory: paths.directory,
    agentdBundlePath: dependencies.agentdBundlePath,
    nodeBinaryPath: dependencies.nodeBinaryPath,
    toolsDirectory: dependencies.toolsDirectory,
    sandboxID: spec.sandboxID,
    hostname: `ciab-${spec.sandboxID.toLowerCase().replace(/[^a-z0-9]/g, "").slice(-12)}`,
    network: spec.network,
    tmpSizeBytes: config.tmp_size_mb * mebibyte,
    seccompFD: firstInputFD,
    environmentFD: firstInputFD + 1,
    jailUser: jailUID === undefined ? undefined : { uid: jailUID, bwrapPath: config.bwrap_path },
  });
  // The host side of the start (gate shell, bwrap, setpriv) runs with the server's PATH alone.
  const hostEnvironment = { PATH: process.env.PATH ?? machinePath };
  return { command: config.bwrap_path, args, env: hostEnvironment, extraInput: [seccompProgram(), environmentArguments(machineEnvironment(spec.env))] };
}
