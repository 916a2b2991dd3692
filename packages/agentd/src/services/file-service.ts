import { randomBytes } from "node:crypto";
import { createWriteStream, type Stats } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CiabError, type FileEntry, type MkdirRequest, type RemoveRequest, type RenameRequest } from "../protocol.js";
import { toFileEntry } from "./file-entry.js";
import { fsError } from "./fs-errors.js";
import type { PathResolver } from "./path-resolver.js";

export const maxListDepth = 10;
const defaultFileMode = 0o644;

/** A file opened for reading: its size and mode are known before the first byte is sent. */
export interface OpenedFile {
  stream: Readable;
  size: number;
  mode: number;
}

/** Files under the workspace root; every path goes through the PathResolver first. */
export class FileService {
  readonly #paths: PathResolver;

  constructor(paths: PathResolver) {
    this.#paths = paths;
  }

  async list(apiPath: unknown, depth = 1): Promise<FileEntry[]> {
    if (!Number.isInteger(depth) || depth < 1 || depth > maxListDepth) {
      throw new CiabError("invalid_request", `depth must be an integer from 1 to ${maxListDepth}`);
    }
    const target = await this.#paths.follow(apiPath);
    const entries: FileEntry[] = [];
    try {
      const stats = await stat(target.realPath);
      if (!stats.isDirectory()) throw new CiabError("not_a_directory", `${target.sandboxPath} is not a directory`);
      await this.#walk(target.realPath, target.sandboxPath, depth, entries);
    } catch (error) {
      throw fsError(error, target.sandboxPath);
    }
    return entries;
  }

  async #walk(realDirectory: string, sandboxDirectory: string, depth: number, into: FileEntry[]): Promise<void> {
    const names = await readdir(realDirectory);
    names.sort();
    const children = await Promise.all(
      names.map(async (name) => {
        const hostPath = path.join(realDirectory, name);
        const sandboxPath = path.posix.join(sandboxDirectory, name);
        const stats = await lstat(hostPath).catch(() => undefined);
        return stats && { hostPath, sandboxPath, stats };
      }),
    );
    for (const child of children) {
      if (!child) continue; // removed while listing
      into.push(await toFileEntry(child.sandboxPath, child.hostPath, child.stats));
      // Symlinked directories are reported, never descended: that is how a listing stays in the root.
      if (depth > 1 && child.stats.isDirectory()) {
        await this.#walk(child.hostPath, child.sandboxPath, depth - 1, into).catch(() => undefined);
      }
    }
  }

  async stat(apiPath: unknown): Promise<FileEntry> {
    const target = await this.#paths.parent(apiPath);
    try {
      return await toFileEntry(target.sandboxPath, target.realPath, await lstat(target.realPath));
    } catch (error) {
      throw fsError(error, target.sandboxPath);
    }
  }

  async open(apiPath: unknown): Promise<OpenedFile> {
    const target = await this.#paths.follow(apiPath);
    let handle;
    try {
      handle = await open(target.realPath, "r");
    } catch (error) {
      throw fsError(error, target.sandboxPath);
    }
    let stats: Stats;
    try {
      stats = await handle.stat();
    } catch (error) {
      await handle.close();
      throw fsError(error, target.sandboxPath);
    }
    if (stats.isDirectory()) {
      await handle.close();
      throw new CiabError("is_a_directory", `${target.sandboxPath} is a directory`);
    }
    const stream = handle.createReadStream({ highWaterMark: 256 * 1024 }); // closes the handle at its end
    return { stream, size: stats.size, mode: stats.mode & 0o7777 };
  }

  /** Streams `body` to a temp file beside the target, then renames it into place. */
  async write(apiPath: unknown, body: Readable, mode?: number): Promise<FileEntry> {
    const target = await this.#paths.follow(apiPath);
    const directory = path.dirname(target.realPath);
    const temporary = path.join(directory, `.${path.basename(target.realPath)}.ciab-${randomBytes(6).toString("hex")}.tmp`);
    try {
      const existing = await stat(target.realPath).catch(() => undefined);
      if (existing?.isDirectory()) throw new CiabError("is_a_directory", `${target.sandboxPath} is a directory`);
      await mkdir(directory, { recursive: true });
      const fileMode = mode ?? (existing ? existing.mode & 0o7777 : defaultFileMode);
      await pipeline(body, createWriteStream(temporary, { flags: "wx", mode: fileMode, highWaterMark: 256 * 1024 }));
      await chmod(temporary, fileMode); // the umask narrowed the mode at open
      await rename(temporary, target.realPath);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw fsError(error, target.sandboxPath);
    }
    return this.#entry(target.sandboxPath, target.realPath);
  }

  async mkdir(request: MkdirRequest): Promise<FileEntry> {
    const target = await this.#paths.follow(request.path);
    try {
      await mkdir(target.realPath, { recursive: request.parents ?? false, mode: request.mode ?? 0o755 });
      const stats = await stat(target.realPath);
      if (!stats.isDirectory()) throw new CiabError("already_exists", `${target.sandboxPath} exists and is not a directory`);
    } catch (error) {
      throw fsError(error, target.sandboxPath);
    }
    return this.#entry(target.sandboxPath, target.realPath);
  }

  async remove(request: RemoveRequest): Promise<void> {
    const target = await this.#paths.parent(request.path);
    if (target.hostPath === this.#paths.root) {
      throw new CiabError("invalid_path", "the workspace root itself cannot be removed");
    }
    try {
      const stats = await lstat(target.realPath);
      if (!stats.isDirectory()) await unlink(target.realPath);
      else if (request.recursive) await rm(target.realPath, { recursive: true, force: true });
      else await rmdir(target.realPath);
    } catch (error) {
      throw fsError(error, target.sandboxPath);
    }
  }

  async rename(request: RenameRequest): Promise<FileEntry> {
    const from = await this.#paths.parent(request.from);
    const to = await this.#paths.parent(request.to);
    if (from.hostPath === this.#paths.root || to.hostPath === this.#paths.root) {
      throw new CiabError("invalid_path", "the workspace root itself cannot be renamed");
    }
    try {
      await rename(from.realPath, to.realPath);
    } catch (error) {
      throw fsError(error, (error as NodeJS.ErrnoException).code === "ENOENT" ? from.sandboxPath : to.sandboxPath);
    }
    return this.#entry(to.sandboxPath, to.realPath);
  }

  async #entry(sandboxPath: string, realPath: string): Promise<FileEntry> {
    try {
      return await toFileEntry(sandboxPath, realPath, await lstat(realPath));
    } catch (error) {
      throw fsError(error, sandboxPath);
    }
  }
}
