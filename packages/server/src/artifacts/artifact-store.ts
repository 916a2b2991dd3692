import type { Readable } from "node:stream";

/**
 * Where artifact and snapshot bytes live: local/ (a dir) or s3/. Services never import a backend; they
 * are chosen by `[artifacts] backend` in create-artifact-store.ts.
 */
export interface ArtifactStore {
  readonly name: "local" | "s3";
  /**
   * Streams `body` to `key`. Either the whole body is stored under `key` when it resolves, or nothing
   * is (a temp name or an aborted multipart upload is cleaned away) when it rejects.
   */
  put(key: string, body: Readable, options: { contentType: string; signal?: AbortSignal | undefined }): Promise<void>;
  /** The stored bytes, streamed; `file_not_found` when the key has none. */
  open(key: string, signal?: AbortSignal): Promise<Readable>;
  /** Removes the bytes; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * A URL the store itself serves the bytes from until `expiresAt` (S3 presigned), or undefined when
   * downloads go through the control plane's signed route (local).
   */
  presignedURL?(key: string, options: { expiresAt: Date; fileName: string; contentType: string }): Promise<string>;
}
