import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { CiabError } from "@ciab/protocol";

export interface ToolsArchive {
  path: string;
  size: number;
  /** The hash it is cached by: of the tools dir's package-lock.json, which names everything npm put there. */
  contentHash: string;
}

/**
 * The host's tools dir (agent CLIs installed with npm) as one tarball, for machines that do not mount it
 * (ec2 on a plain AMI, which downloads it at boot). Built once per state of the lock file and kept under
 * `cacheDirectory`; parallel requests for the same state share one build.
 */
export function createToolsArchiver(toolsDirectory: string, cacheDirectory: string): () => Promise<ToolsArchive> {
  const building = new Map<string, Promise<ToolsArchive>>();
  return async () => {
    const lock = await readFile(path.join(toolsDirectory, "package-lock.json")).catch(() => Buffer.alloc(0));
    const contentHash = createHash("sha256").update(lock).digest("hex");
    const target = path.join(cacheDirectory, `tools-${contentHash}.tar`);
    const cached = await stat(target).catch(() => undefined);
    if (cached) return { path: target, size: cached.size, contentHash };
    let build = building.get(contentHash);
    if (!build) {
      build = pack(toolsDirectory, target)
        .then(async () => ({ path: target, size: (await stat(target)).size, contentHash }))
        .finally(() => building.delete(contentHash));
      building.set(contentHash, build);
    }
    return build;
  };
}

/** Uncompressed: unpacking is the instance's cost and the network its bottleneck only across regions. */
async function pack(toolsDirectory: string, target: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const partial = `${target}.${process.pid}.partial`;
  const tar = spawn("tar", ["-c", "-f", partial, "-C", toolsDirectory, "--exclude=./.ciab-install.lock", "."], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  tar.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const status = await new Promise<number | null>((resolve) => tar.once("close", resolve));
  if (status !== 0) {
    await rm(partial, { force: true });
    throw new CiabError("internal", `cannot pack the tools dir ${toolsDirectory}: ${stderr.trim()}`);
  }
  await rename(partial, target);
}
