import type { Stats } from "node:fs";
import { readlink } from "node:fs/promises";
import path from "node:path";
import type { FileEntry, FileType } from "../protocol.js";

function fileType(stats: Stats): FileType {
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "dir";
  if (stats.isSymbolicLink()) return "symlink";
  return "other";
}

/** Builds a FileEntry from lstat results; symlinks carry their target as written. */
export async function toFileEntry(sandboxPath: string, hostPath: string, stats: Stats): Promise<FileEntry> {
  const entry: FileEntry = {
    name: sandboxPath === "/" ? "/" : path.posix.basename(sandboxPath),
    path: sandboxPath,
    type: fileType(stats),
    size: stats.size,
    mode: stats.mode & 0o7777,
    modifiedAt: stats.mtime.toISOString(),
  };
  if (entry.type === "symlink") {
    entry.symlinkTarget = await readlink(hostPath).catch(() => "");
  }
  return entry;
}
