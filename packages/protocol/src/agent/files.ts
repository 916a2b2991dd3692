/**
 * Files over the agent channel. Paths are sandbox paths: absolute under /workspace or relative to it.
 * agentd resolves them on its side (symlinks included) and refuses anything that leaves the work dir.
 */
export const workspacePath = "/workspace";

export type FileType = "file" | "dir" | "symlink" | "other";

export interface FileEntry {
  name: string;
  /** Sandbox path, always absolute. */
  path: string;
  type: FileType;
  size: number;
  /** Permission bits, e.g. 0o644 as 420. */
  mode: number;
  modifiedAt: string;
  /** For symlinks: where the link points, as written. */
  symlinkTarget?: string;
}

export interface MkdirRequest {
  path: string;
  mode?: number;
  /** Create missing parents; an existing directory is then not an error. */
  parents?: boolean;
}

export interface RemoveRequest {
  path: string;
  recursive?: boolean;
}

export interface RenameRequest {
  from: string;
  to: string;
}
