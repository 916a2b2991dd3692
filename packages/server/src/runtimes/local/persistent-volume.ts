import { execFile } from "node:child_process";
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { CiabError } from "@ciab/protocol";
import { formatVolumeImage, mountVolumeImage } from "./workspace-volume.js";

const run = promisify(execFile);

/**
 * A user's persistent volume on this host, `<dataDirectory>/volumes/<volumeID>/`: an ext4 image of the jail
 * workspace's size when jails have a quota (`volume.img`, loop-mounted, so the quota holds), else a plain dir
 * (`data/`, bind-mounted). Either way it is mounted over the sandbox's `workspace` dir, so destroying the
 * sandbox unmounts it and never deletes it.
 */
export interface LocalVolumePaths {
  directory: string;
  image: string;
  data: string;
}

export type LocalVolumeKind = "image" | "directory";

export function localVolumePaths(dataDirectory: string, volumeID: string): LocalVolumePaths {
  // The id becomes a path segment: only our own id shape.
  if (!/^vol_[0-9a-z]{26}$/.test(volumeID)) throw new CiabError("invalid_request", `${JSON.stringify(volumeID)} is not a volume id`);
  const directory = path.resolve(dataDirectory, "volumes", volumeID);
  return { directory, image: path.join(directory, "volume.img"), data: path.join(directory, "data") };
}

/** Makes the volume: an image of `sizeBytes` when above 0, else a dir. */
export async function createLocalVolume(paths: LocalVolumePaths, sizeBytes: number): Promise<LocalVolumeKind> {
  await mkdir(paths.directory, { recursive: true, mode: 0o700 });
  try {
    if (sizeBytes > 0) {
      // A volume outlives many jails: a journal keeps it consistent when one is killed mid-write.
      await formatVolumeImage(paths.image, sizeBytes, 0, { journal: true });
      return "image";
    }
    await mkdir(paths.data, { mode: 0o755 });
    return "directory";
  } catch (error) {
    await rm(paths.directory, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Mounts the volume at `workspace` (needs root), and gives everything in it to the jail's uid: each jail has
 * a uid of its own, so the files the previous one left belong to another. Symlinks are changed themselves,
 * never followed: what a jail left in its volume is hostile.
 */
export async function mountLocalVolume(paths: LocalVolumePaths, workspace: string, owner: number | undefined): Promise<void> {
  const kind = await volumeKind(paths);
  // The store lets one live sandbox have a volume; this holds even while a failed one is still being torn
  // down: an ext4 image mounted twice would be corrupted, and a dying jail could race the chown below.
  if (kind === "image") await refuseAttachedImage(paths);
  if (kind === "image") await mountVolumeImage(paths.image, workspace);
  else await run("mount", ["--bind", "-o", "nosuid,nodev", paths.data, workspace]);
  if (owner !== undefined && (await stat(workspace)).uid !== owner) {
    await run("chown", ["-R", "-P", "--no-dereference", `${owner}:${owner}`, workspace]);
  }
}

/** Deletes the volume; `volume_in_use` while a loop device still holds its image. */
export async function deleteLocalVolume(paths: LocalVolumePaths): Promise<void> {
  await refuseAttachedImage(paths);
  await rm(paths.directory, { recursive: true, force: true });
}

/** `volume_in_use` while a loop device (a mount) still holds the volume's image. */
async function refuseAttachedImage(paths: LocalVolumePaths): Promise<void> {
  const { stdout } = await run("losetup", ["-j", paths.image]).catch(() => ({ stdout: "" }));
  if (stdout.trim() !== "") throw new CiabError("volume_in_use", `the volume's image ${paths.image} is still mounted`);
}

async function volumeKind(paths: LocalVolumePaths): Promise<LocalVolumeKind> {
  if (await stat(paths.image).then((status) => status.isFile(), () => false)) return "image";
  if (await stat(paths.data).then((status) => status.isDirectory(), () => false)) return "directory";
  throw new CiabError("not_found", `the volume at ${paths.directory} is gone from this host`);
}
