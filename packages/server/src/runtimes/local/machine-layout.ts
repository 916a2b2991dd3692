import path from "node:path";
import { CiabError, agentSocketDirectory, agentSocketName } from "@ciab/protocol";

/** Where agentd and its Node binary appear inside a jail or container (local and docker alike). */
export const machineNodePath = "/opt/ciab/node";
export const machineAgentdPath = "/opt/ciab/agentd.mjs";
/** The same Node binary again, in a dir on PATH, so JavaScript agent CLIs (`#!/usr/bin/env node`) run in any image. */
export const machineNodeBinDirectory = "/opt/ciab/bin";
export const machineToolsPath = "/opt/ciab/tools";
/** The in-sandbox `ciab-artifact` command, on PATH in every machine. */
export const machineArtifactCommandPath = "/opt/ciab/bin/ciab-artifact";
/** Puts the tools back on PATH after /etc/profile reset it in a login shell (`bash -lc`). */
export const machineProfileSnippetPath = "/etc/profile.d/zz-ciab-path.sh";

/** The command and the snippet are built beside the agentd bundle (packages/agentd/scripts/bundle.mjs). */
export function besideBundle(agentdBundlePath: string): { artifactCommand: string; profileSnippet: string } {
  const directory = path.dirname(agentdBundlePath);
  return { artifactCommand: path.join(directory, "ciab-artifact"), profileSnippet: path.join(directory, "ciab-path.sh") };
}
export const machineWorkspace = "/workspace";
export const machinePath = `${machineToolsPath}/node_modules/.bin:${machineNodeBinDirectory}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
/** The control plane listens here (host side of `/run/ciab`) for the model gateway; agentd relays to it. */
export const gatewaySocketName = "gateway.sock";

/** The command every machine runs: agentd on the socket in the bind-mounted `/run/ciab`. */
export function agentdCommand(sandboxID: string): string[] {
  return [
    machineNodePath,
    machineAgentdPath,
    "--socket",
    path.posix.join(agentSocketDirectory, agentSocketName),
    "--workspace-root",
    machineWorkspace,
    "--gateway-socket",
    path.posix.join(agentSocketDirectory, gatewaySocketName),
    "--sandbox-id",
    sandboxID,
  ];
}

/** A sandbox's host files: `<dataDirectory>/sandboxes/<sandboxID>/{workspace,run,agentd.log,machine.json,workspace.img}`. */
export interface SandboxPaths {
  directory: string;
  workspace: string;
  /** The sparse image of the workspace's sized file system, when it has one (`workspace-volume.ts`). */
  workspaceVolume: string;
  /** Bind-mounted at the machine's `/run/ciab`. */
  run: string;
  /** agentd's socket as seen from the host. */
  socket: string;
  log: string;
  /** agentd's log when the jail has its own uid: in the sized run dir, which the jail can write. */
  jailLog: string;
  machineFile: string;
}

export function sandboxPaths(dataDirectory: string, sandboxID: string): SandboxPaths {
  // The id becomes a path segment; refuse anything that could climb out of the sandboxes dir.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(sandboxID) || sandboxID.includes("..")) {
    throw new CiabError("invalid_request", `sandbox id ${JSON.stringify(sandboxID)} is not a safe path segment`);
  }
  const directory = path.resolve(dataDirectory, "sandboxes", sandboxID);
  const run = path.join(directory, "run");
  return {
    directory,
    workspace: path.join(directory, "workspace"),
    workspaceVolume: path.join(directory, "workspace.img"),
    run,
    socket: path.join(run, agentSocketName),
    log: path.join(directory, "agentd.log"),
    jailLog: path.join(run, "agentd.log"),
    machineFile: path.join(directory, "machine.json"),
  };
}
