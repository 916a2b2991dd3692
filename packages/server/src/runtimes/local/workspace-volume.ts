import { execFile } from "node:child_process";
import { chown, readFile, rm, rmdir, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * A jail's `/workspace` as an ext4 file system of a fixed size in a sparse image beside it, loop-mounted on
 * the host: writes past the quota fail inside with ENOSPC ("No space left on device"), as on a full disk.
 * The image takes host disk only for what the jail writes. Needs root (mount) and mkfs.ext4. The image
 * comes formatted from `images` (see workspace-image-pool.ts); its root dir becomes `owner`'s once mounted.
 */
export async function mountWorkspaceVolume(
  images: { take(target: string, sizeBytes: number): Promise<void> },
  image: string,
  workspace: string,
  sizeBytes: number,
  owner: number,
): Promise<void> {
  await images.take(image, sizeBytes);
  await mountVolumeImage(image, workspace);
  await chown(workspace, owner, owner);
}

/** A sparse image of `sizeBytes` holding an empty ext4 file system whose root dir is root's. */
export async function formatWorkspaceImage(image: string, sizeBytes: number): Promise<void> {
  await formatVolumeImage(image, sizeBytes, 0, { journal: false });
}

/** Writes a sparse image of `sizeBytes` holding an empty ext4 file system whose root belongs to `owner`. */
export async function formatVolumeImage(image: string, sizeBytes: number, owner: number, options: { journal: boolean }): Promise<void> {
  await writeFile(image, "", { mode: 0o600 });
  await truncate(image, sizeBytes);
  // No reserved blocks: every byte the jail's. A scratch dir that dies with its sandbox needs no journal either.
  const features = options.journal ? [] : ["-O", "^has_journal"];
  await run("mkfs.ext4", ["-q", "-F", "-m", "0", ...features, "-E", `root_owner=${owner}:${owner}`, image]);
}

/** Loop-mounts an image made by `formatVolumeImage` at `directory`. */
export async function mountVolumeImage(image: string, directory: string): Promise<void> {
  await run("mount", ["-o", "loop,nosuid,nodev", image, directory]);
  // mkfs's lost+found would show in every listing of /workspace; nothing here ever runs fsck on it.
  await rmdir(path.join(directory, "lost+found")).catch(() => undefined);
}

/** Size of a jail's run dir: two sockets and agentd's log. */
const runDirectoryBytes = 64 * 1024 * 1024;

/**
 * Mounts a small tmpfs of `owner`'s at a jail's run dir (its `/run/ciab`), so that dir, writable from inside,
 * cannot fill the host's disk either.
 */
export async function mountRunDirectory(directory: string, owner: number): Promise<void> {
  const options = `size=${runDirectoryBytes},mode=0700,uid=${owner},gid=${owner},nosuid,nodev,noexec`;
  await run("mount", ["-t", "tmpfs", "-o", options, "ciab-run", directory]);
}

/** Unmounts whatever is mounted at `directory`, if anything. */
export async function unmountIfMounted(directory: string): Promise<void> {
  if (!(await isMounted(directory))) return;
  // The jail's processes are dead by now; lazily, so a late-closing file cannot keep the dir mounted. A
  // destroy running at the same time (the reconciler's) may unmount it first: gone is what was asked.
  await run("umount", [directory])
    .catch(() => run("umount", ["-l", directory]))
    .catch(async (error: unknown) => {
      if (await isMounted(directory)) throw error;
    });
}

/** Whether something is mounted at `directory` (the host's mount table, not the jail's). */
export async function isMounted(directory: string): Promise<boolean> {
  const table = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const escaped = directory.replace(/[\\ \t\n]/g, (character) => `\\${character.charCodeAt(0).toString(8).padStart(3, "0")}`);
  return table.split("\n").some((line) => line.split(" ")[4] === escaped);
}

/** Unmounts the volume (its loop device goes with it) and deletes the image; done when neither is left. */
export async function removeWorkspaceVolume(image: string, workspace: string): Promise<void> {
  await unmountIfMounted(workspace);
  await rm(image, { force: true });
}
