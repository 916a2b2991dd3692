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

export async function writeLocalMachine(file: string, machine: LocalMachineFile): Promise<void> {
  // Write then rename, so a reader never sees half a file.
  await writeFile(`${file}.partial`, JSON.stringify(machine, null, 2));
  await rename(`${file}.partial`, file);
}

export async function readLocalMachine(file: string): Promise<LocalMachineFile | undefined> {
  try {
    const value = JSON.parse(await readFile(file, "utf8")) as Partial<LocalMachineFile>;
    const details = value.details;
    if (typeof value.machineID !== "string" || typeof value.sandboxID !== "string") return undefined;
    if (typeof details?.pid !== "number" || typeof details.startTime !== "number") return undefined;
    return value as LocalMachineFile;
  } catch {
    return undefined;
  }
}
