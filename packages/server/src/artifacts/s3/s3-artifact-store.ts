import type { Readable } from "node:stream";
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { CiabError } from "@ciab/protocol";
import type { ArtifactStore } from "../artifact-store.js";

export interface S3ArtifactStoreConfig {
  bucket: string;
  /** Prepended to every key (`ciab/`), so one bucket can hold several installations. */
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (moto in tests); path-style addressing is used with it. */
  endpoint?: string;
  /** Credentials come from the default AWS chain unless given (tests). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Parts of a multipart upload; 4 at a time keeps at most ~32 MiB of an artifact in memory. */
const partSizeBytes = 8 * 1024 * 1024;
const queueSize = 4;

/**
 * Artifacts as S3 objects, uploaded in parts as they stream (lib-storage). A failed upload is aborted, so
 * the object never appears half-written; downloads are presigned GETs.
 */
export function createS3ArtifactStore(config: S3ArtifactStoreConfig): ArtifactStore {
  const client = new S3Client({
    region: config.region,
    ...(config.endpoint !== undefined && { endpoint: config.endpoint, forcePathStyle: true }),
    ...(config.credentials !== undefined && { credentials: config.credentials }),
    maxAttempts: 2,
  });
  const objectKey = (key: string): string => `${config.prefix}${key}`;
  const failure = (error: unknown): CiabError =>
    error instanceof CiabError
      ? error
      : new CiabError("artifact_store_unavailable", `S3 failed: ${(error as Error).name ?? ""} ${(error as Error).message ?? String(error)}`.trim(), {
          cause: error,
          retryable: true,
          context: { provider_code: (error as { name?: string }).name },
        });

  return {
    name: "s3",

    async put(key, body, options) {
      const upload = new Upload({
        client,
        params: { Bucket: config.bucket, Key: objectKey(key), Body: body, ContentType: options.contentType },
        partSize: partSizeBytes,
        queueSize,
        leavePartsOnError: false,
      });
      const onAbort = (): void => void upload.abort().catch(() => undefined);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      // A failing source stream must stop the upload too: lib-storage only learns of it on its next read.
      const onSourceError = (): void => onAbort();
      body.once("error", onSourceError);
      try {
        await upload.done();
      } catch (error) {
        // Whatever failed first (the source, the scanner, S3) is the error the caller gets.
        throw (body as Readable & { errored?: Error | null }).errored ?? failure(error);
      } finally {
        options.signal?.removeEventListener("abort", onAbort);
        body.off("error", onSourceError);
      }
    },

    async open(key, signal) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: config.bucket, Key: objectKey(key) }), {
          ...(signal && { abortSignal: signal }),
        });
        return answer.Body as Readable;
      } catch (error) {
        if (error instanceof NoSuchKey) throw new CiabError("file_not_found", "the artifact's bytes are missing from the store");
        throw failure(error);
      }
    },

    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: objectKey(key) })).catch((error: unknown) => {
        throw failure(error);
      });
    },

    async presignedURL(key, options) {
      const command = new GetObjectCommand({
        Bucket: config.bucket,
        Key: objectKey(key),
        ResponseContentDisposition: `attachment; filename="${options.fileName}"`,
        ResponseContentType: options.contentType,
      });
      const expiresIn = Math.max(1, Math.ceil((options.expiresAt.getTime() - Date.now()) / 1000));
      return getSignedUrl(client, command, { expiresIn });
    },
  };
}
