import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { agentdBundlePath, bundleAgentd } from "@ciab/agentd/bundle";

/**
 * The agentd file that runtimes mount into machines. Rebuilt (≈100 ms with esbuild) when any agentd
 * source is newer than the bundle, so running from a checkout never needs a separate build step.
 */
export async function ensureAgentdBundle(): Promise<string> {
  const sourceDirectory = path.join(path.dirname(path.dirname(agentdBundlePath)), "src");
  const bundleTime = modifiedTime(agentdBundlePath);
  if (bundleTime === 0 || newestSource(sourceDirectory) > bundleTime) await bundleAgentd();
  return agentdBundlePath;
}

function modifiedTime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function newestSource(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, modifiedTime(path.join(entry.parentPath, entry.name)));
  }
  return newest;
}
