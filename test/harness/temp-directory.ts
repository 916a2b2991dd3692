import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** A fresh directory under the system temp dir; `remove()` deletes it and everything in it. */
export function makeTempDirectory(prefix = "ciab-test-"): { path: string; remove(): void } {
  const directory = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    path: directory,
    remove: () => {
      // A test that leaves sandboxes behind (another workspace's, say) leaves their jails' mounts too.
      unmountBelow(directory);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Lazily unmounts every mount point under `directory`, deepest first. */
function unmountBelow(directory: string): void {
  const prefix = `${directory}/`;
  const mountPoints = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4]?.replace(/\\040/g, " "))
    .filter((mountPoint): mountPoint is string => mountPoint !== undefined && mountPoint.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mountPoints) spawnSync("umount", ["-l", mountPoint], { stdio: "ignore" });
}
