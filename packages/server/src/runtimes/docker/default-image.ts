import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CiabError } from "@ciab/protocol";
import type { Logger } from "../../logger.js";

/** scripts/build-default-image.sh: mmdebstrap a Debian root, `docker import` it (there is no registry). */
export const buildDefaultImageScript = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../../../scripts/build-default-image.sh",
);

export interface BuildDefaultImageOptions {
  image: string;
  signal: AbortSignal;
  onProgress?: (message: string) => void;
  logger: Logger;
}

/** Builds the default image with the repository's script; the script returns at once when it exists. */
export async function buildDefaultImage(options: BuildDefaultImageOptions): Promise<void> {
  options.onProgress?.(`building default image ${options.image} (about 30 s)`);
  options.logger.info({ image: options.image }, "building the default image");
  const started = Date.now();
  const child = spawn("bash", [buildDefaultImageScript], {
    env: { ...process.env, CIAB_DEFAULT_IMAGE: options.image },
    stdio: ["ignore", "ignore", "pipe"],
    signal: options.signal,
  });
  let errorOutput = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (errorOutput = (errorOutput + chunk).slice(-2_000)));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  }).catch((error: unknown) => {
    options.signal.throwIfAborted();
    throw new CiabError("runtime_error", `cannot run ${buildDefaultImageScript}`, { cause: error });
  });
  if (exitCode !== 0) {
    throw new CiabError("runtime_error", `building the default image ${options.image} failed: ${errorOutput.trim()}`, {
      context: { exitCode },
    });
  }
  options.logger.info({ image: options.image, milliseconds: Date.now() - started }, "built the default image");
}
