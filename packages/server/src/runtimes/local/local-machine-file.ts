import { open, rename, writeFile } from "node:fs/promises";
import { CiabError } from "@ciab/protocol";
import { z } from "zod";
import type { Machine } from "../runtime.js";

const isolation = z.enum(["bwrap", "none"]);

/** What the control plane made for a sandbox before its jail ran, so that destroy can undo all of it. */
const resourcesShape = {
  isolation,
  /** The jail's host uid, claimed in `jail-users.ts`; absent when the server is not root or isolation is none. */
  jailUID: z.number().int().positive().optional(),
  /** The sandbox's cgroup dirs (`jail-cgroups.ts`); absent when no cgroup hierarchy is writable. */
  cgroups: z.array(z.string().startsWith("/sys/fs/cgroup/")).optional(),
  /** Whether `/workspace` is a loop-mounted volume of a fixed size (`workspace-volume.ts`). */
  workspaceVolume: z.boolean().optional(),
  /** The persistent volume mounted at `/workspace` (`persistent-volume.ts`); never deleted with the jail. */
  volumeID: z.string().optional(),
};

const detailsSchema = z.object({
  ...resourcesShape,
  pid: z.number().int().positive(),
  /** Field 22 of /proc/<pid>/stat: tells our jail from a later process that got the same pid. */
  startTime: z.number().int().nonnegative(),
  sandboxDirectory: z.string(),
  /** agentd's socket as seen from the host. */
  socketPath: z.string(),
});

/** What `Machine.details` holds for a local sandbox; plain JSON. */
export type LocalMachineDetails = z.infer<typeof detailsSchema>;

const machineFileSchema = z.object({
  machineID: z.string(),
  sandboxID: z.string(),
  installationID: z.string(),
  details: detailsSchema,
});

/**
 * `machine.json` in the sandbox dir: the control plane's own record of a jail, written by it alone in a dir
 * no jail can reach (mode 0600). `listManaged` and `destroy` decide from it and from the cgroups it names,
 * never from what runs in a jail (argv, environment, files in `/workspace` or `/run/ciab`).
 */
export type LocalMachineFile = z.infer<typeof machineFileSchema>;

const provisionalSchema = z.object({
  provisional: z.literal(true),
  sandboxID: z.string(),
  installationID: z.string(),
  ...resourcesShape,
});

/**
 * What `machine.json` holds while a jail is prepared, before its process starts: which uid, cgroups and
 * volume were made for it. The process itself waits at a gate until the full record naming its pid is
 * written, so no jail ever runs without one.
 */
export type ProvisionalLocalMachineFile = z.infer<typeof provisionalSchema>;

/** What a provisional record says was made for the jail, without the record's own identity. */
export function provisionalResources(file: ProvisionalLocalMachineFile): Omit<ProvisionalLocalMachineFile, "provisional" | "sandboxID" | "installationID"> {
  const { provisional: _, sandboxID: __, installationID: ___, ...resources } = file;
  return resources;
}

/** A machine's details as a running jail's; refuses a machine that names no process. */
export function localMachineDetails(machine: Machine): LocalMachineDetails {
  const { pid, startTime } = machine.details;
  if (typeof pid !== "number" || typeof startTime !== "number") {
    throw new CiabError("runtime_error", `machine ${machine.machineID} has no local pid and start time`);
  }
  return machine.details as unknown as LocalMachineDetails;
}

const largestRecord = 64 * 1024;

export async function writeLocalMachine(file: string, machine: LocalMachineFile | ProvisionalLocalMachineFile): Promise<void> {
  // Write then rename, so a reader never sees half a file.
  await writeFile(`${file}.partial`, JSON.stringify(machine, null, 2), { mode: 0o600 });
  await rename(`${file}.partial`, file);
}

export async function readLocalMachine(file: string): Promise<LocalMachineFile | ProvisionalLocalMachineFile | undefined> {
  try {
    const handle = await open(file, "r");
    try {
      const buffer = Buffer.alloc(largestRecord);
      const { bytesRead } = await handle.read(buffer, 0, largestRecord, 0);
      const value: unknown = JSON.parse(buffer.subarray(0, bytesRead).toString("utf8"));
      const provisional = provisionalSchema.safeParse(value);
      if (provisional.success) return provisional.data;
      const machine = machineFileSchema.safeParse(value);
      return machine.success ? machine.data : undefined;
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
