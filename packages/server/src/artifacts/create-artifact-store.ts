import path from "node:path";
import { CiabError } from "@ciab/protocol";
import type { ArtifactsConfig } from "../config/config-schema.js";
import type { ArtifactStore } from "./artifact-store.js";
import { createLocalArtifactStore } from "./local/index.js";

type StoreFactory = (config: ArtifactsConfig, dataDirectory: string) => Promise<ArtifactStore>;

/** Backends by `[artifacts] backend`; s3 loads the AWS SDK only when chosen. */
const factories: Record<ArtifactsConfig["backend"], StoreFactory> = {
  local: async (config, dataDirectory) => createLocalArtifactStore({ directory: config.dir ?? path.join(dataDirectory, "artifacts") }),
  s3: async (config) => {
    if (config.s3_bucket === undefined) throw new CiabError("invalid_request", "[artifacts] backend = \"s3\" needs s3_bucket (CIAB_ARTIFACTS_S3_BUCKET)");
    const { createS3ArtifactStore } = await import("./s3/index.js");
    return createS3ArtifactStore({
      bucket: config.s3_bucket,
      prefix: config.s3_prefix,
      region: config.s3_region,
      ...(config.s3_endpoint !== undefined && { endpoint: config.s3_endpoint }),
    });
  },
};

export function createArtifactStore(config: ArtifactsConfig, dataDirectory: string): Promise<ArtifactStore> {
  return factories[config.backend](config, dataDirectory);
}
