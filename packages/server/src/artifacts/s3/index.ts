export { createS3ArtifactStore, type S3ArtifactStoreConfig } from "./s3-artifact-store.js";
