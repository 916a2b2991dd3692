import { readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { CiabError, workspacePath } from "../protocol.js";
import { fsError } from "./fs-errors.js";

/** A sandbox path checked and mapped to agentd's side. */
export interface ResolvedPath {
  /** Normalised, absolute, under /workspace: what answers report. */
  sandboxPath: string;
  /** The same place under the workspace root, before symlinks are resolved. */
  hostPath: string;
}

const maxSymlinkHops = 40;

/**
 * Maps sandbox paths (absolute under /workspace or relative to it) to the workspace root and keeps them
 * there. Lexical checks catch `..` and foreign absolute paths; `follow` and `parent` then resolve symlinks
 * on disk so a link that points out of the root cannot be read, listed or written through.
 * The check and the use are separate syscalls, so a process racing to swap links can still win; inside a
 * jail that only reaches the jail's own files.
 */
export class PathResolver {
  readonly #root: string;
  readonly #realRoot: string;

  private constructor(root: string, realRoot: string) {
    this.#root = root;
    this.#realRoot = realRoot;
  }

  static async create(workspaceRoot: string): Promise<PathResolver> {
    const root = path.resolve(workspaceRoot);
    return new PathResolver(root, await realpath(root));
  }

  get root(): string {
    return this.#root;
  }

  /** Lexical mapping only: validates and maps, touches nothing on disk. */
  map(apiPath: unknown): ResolvedPath {
    if (typeof apiPath !== "string" || apiPath === "") {
      throw new CiabError("invalid_path", "path must be a non-empty string");
    }
    if (apiPath.includes("\0")) throw new CiabError("invalid_path", "path must not contain NUL bytes");
    const sandboxPath = path.posix.resolve(workspacePath, apiPath);
    if (sandboxPath !== workspacePath && !sandboxPath.startsWith(`${workspacePath}/`)) {
      throw outside(apiPath);
    }
    const relative = sandboxPath.slice(workspacePath.length + 1);
    return { sandboxPath, hostPath: relative === "" ? this.#root : path.join(this.#root, relative) };
  }

  /**
   * For operations that act on what the path points to (read, write, list, mkdir): resolves every
   * symlink, following dangling ones and missing components as far as they go, and returns the real path.
   */
  async follow(apiPath: unknown): Promise<ResolvedPath & { realPath: string }> {
    const resolved = this.map(apiPath);
    const realPath = await this.#realpathAllowMissing(resolved.hostPath, 0).catch((error: unknown) => {
      throw fsError(error, resolved.sandboxPath);
    });
    this.#confine(realPath, resolved.sandboxPath);
    return { ...resolved, realPath };
  }

  /**
   * For operations on the entry itself (stat, remove, rename): resolves the parent directory but not the
   * last component, so a symlink is reported or removed rather than followed.
   */
  async parent(apiPath: unknown): Promise<ResolvedPath & { realPath: string }> {
    const resolved = this.map(apiPath);
    if (resolved.hostPath === this.#root) return { ...resolved, realPath: this.#realRoot };
    const realParent = await this.#realpathAllowMissing(path.dirname(resolved.hostPath), 0).catch((error: unknown) => {
      throw fsError(error, resolved.sandboxPath);
    });
    this.#confine(realParent, resolved.sandboxPath);
    return { ...resolved, realPath: path.join(realParent, path.basename(resolved.hostPath)) };
  }

  /** True when a real (symlink-free) host path is the root or inside it. */
  contains(realPath: string): boolean {
    return realPath === this.#realRoot || realPath.startsWith(this.#realRoot + path.sep);
  }

  #confine(realPath: string, sandboxPath: string): void {
    if (!this.contains(realPath)) throw outside(sandboxPath);
  }

  async #realpathAllowMissing(hostPath: string, hops: number): Promise<string> {
    if (hops > maxSymlinkHops) throw new CiabError("invalid_path", "too many levels of symbolic links");
    try {
      return await realpath(hostPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const parent = path.dirname(hostPath);
    if (parent === hostPath) return hostPath;
    const candidate = path.join(await this.#realpathAllowMissing(parent, hops + 1), path.basename(hostPath));
    let target: string;
    try {
      target = await readlink(candidate);
    } catch {
      return candidate; // missing: nothing more to resolve
    }
    return this.#realpathAllowMissing(path.resolve(path.dirname(candidate), target), hops + 1);
  }
}

function outside(apiPath: string): CiabError {
  return new CiabError("path_outside_sandbox", `${apiPath} is outside ${workspacePath}`, {
    context: { path: apiPath },
  });
}
