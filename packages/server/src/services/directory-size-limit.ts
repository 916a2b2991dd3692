import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { CiabError } from "@ciab/protocol";

const pollIntervalMs = 250;

/** Bytes of the regular files under `directory` (symlinks not followed); files that vanish count zero. */
export async function directoryBytes(directory: string): Promise<number> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    const entryPath = path.join(directory, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(entryPath);
    else if (entry.isFile()) total += (await lstat(entryPath).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/**
 * Runs `work` with a signal that aborts once `directory` holds more than `maxBytes`, checked while it runs
 * and once more after: a remote that sends without end (or a huge repository) cannot fill the host's disk.
 */
export async function withSizeLimit<T>(directory: string, maxBytes: number, signal: AbortSignal, work: (bounded: AbortSignal) => Promise<T>): Promise<T> {
  const overLimit = new AbortController();
  const tooLarge = () =>
    new CiabError("invalid_request", `the repository takes more than ${Math.round(maxBytes / 1024 / 1024)} MB ([policy] max_repo_mb)`);
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void directoryBytes(directory)
      .then((bytes) => bytes > maxBytes && overLimit.abort())
      .finally(() => (checking = false));
  }, pollIntervalMs);
  try {
    const result = await work(AbortSignal.any([signal, overLimit.signal]));
    if (overLimit.signal.aborted || (await directoryBytes(directory)) > maxBytes) throw tooLarge();
    return result;
  } catch (error) {
    if (overLimit.signal.aborted && !signal.aborted) throw tooLarge();
    throw error;
  } finally {
    clearInterval(timer);
  }
}
