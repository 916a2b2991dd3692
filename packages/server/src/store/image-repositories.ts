import type { ImageBuildPatch, ImageBuildRecord, ImageBuildState, ImageRecord } from "./image-records.js";

export interface ImageBuildRepository {
  create(record: ImageBuildRecord): Promise<void>;
  /** Scoped to a workspace: another workspace's id is not found. */
  get(workspaceID: string, id: string): Promise<ImageBuildRecord | undefined>;
  /** Across workspaces, for the build queue and start-up recovery. */
  listAll(states: ImageBuildState[]): Promise<ImageBuildRecord[]>;
  /** A queued or building build with this key, if any. */
  findActive(dedupKey: string): Promise<ImageBuildRecord | undefined>;
  update(id: string, patch: ImageBuildPatch): Promise<ImageBuildRecord>;
}

export interface ImageRepository {
  create(record: ImageRecord): Promise<void>;
  get(workspaceID: string, id: string): Promise<ImageRecord | undefined>;
  list(workspaceID: string, filter: { region?: string | undefined; provider?: string | undefined; runtime?: string | undefined; limit: number }): Promise<ImageRecord[]>;
  delete(workspaceID: string, id: string): Promise<boolean>;
}
