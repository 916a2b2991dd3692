import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { SandboxPaths } from "./machine-layout.js";

const tailBytes = 1_024;

/**
 * The last KiB of agentd's log. A jail's log sits in its run dir, where the jail may have put anything in
 * its place: the final component is never followed, a FIFO never waited on, and only a regular file read.
 */
export async function agentdLogTail(paths: SandboxPaths): Promise<string> {
  for (const file of [paths.jailLog, paths.log]) {
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
    if (handle === undefined) continue;
    try {
      const status = await handle.stat();
      if (!status.isFile()) continue;
      const buffer = Buffer.alloc(Math.min(status.size, tailBytes));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, Math.max(0, status.size - tailBytes));
      return buffer.subarray(0, bytesRead).toString("utf8").trim() || `nothing in ${file}`;
    } catch {
      continue;
    } finally {
      await handle.close();
    }
  }
  return "no agentd log";
}
