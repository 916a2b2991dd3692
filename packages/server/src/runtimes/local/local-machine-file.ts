import { readFile, rename, writeFile } from "node:fs/promises";

/** What `Machine.details` holds for a local sandbox; plain JSON. */
export interface LocalMachineDetails {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells our jail from a later process that got the same pid. */
  startTime: number;
  isolation: "bwrap" | "none";
  sandboxDirectory: string;
  /** agentd's socket as seen from the host. */
  socketPath: string;
}

/** `machine.json` in the sandbox dir: how `listManaged` finds jails after the control plane restarts. */
export interface LocalMachineFile {
  machineID: string;
  sandboxID: string;
  installationID: string;
  details: LocalMachineDetails;
}

/**
 * What `machine.json` holds from before the jail is spawned until its pid is known. A control plane killed in
 * between leaves this behind, which tells `listManaged` to look for the jail's processes by their argv.
 */
export interface ProvisionalLocalMachineFile {
  provisional: true;
  sandboxID: string;
  installationID: string;
}

export async function writeLocalMachine(file: string, machine: LocalMachineFile | ProvisionalLocalMachineFile): Promise<void> {
  // Write then rename, so a reader never sees half a file.
  await writeFile(`${file}.partial`, JSON.stringify(machine, null, 2));
  await rename(`${file}.partial`, file);
}

export async function readLocalMachine(file: string): Promise<LocalMachineFile | ProvisionalLocalMachineFile | undefined> {
  try {
    const value = JSON.parse(await readFile(file, "utf8")) as Partial<LocalMachineFile & ProvisionalLocalMachineFile>;
    const details = value.details;
    if (typeof value.sandboxID !== "string" || typeof value.installationID !== "string") return undefined;
    if (value.provisional === true) return { provisional: true, sandboxID: value.sandboxID, installationID: value.installationID };
    if (typeof value.machineID !== "string") return undefined;
    if (typeof details?.pid !== "number" || typeof details.startTime !== "number") return undefined;
    return value as LocalMachineFile;
  } catch {
    return undefined;
  }
}
