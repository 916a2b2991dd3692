import { execFileSync } from "node:child_process";
import { makeTempDirectory } from "../harness/temp-directory.js";

/** A tmpfs of `sizeMiB` mounted on a fresh temp dir (the tests run as root): a disk that fills up. */
export function mountSmallDisk(sizeMiB: number): { path: string; remove(): void } {
  const directory = makeTempDirectory("ciab-small-disk-");
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m,mode=0700`, "tmpfs", directory.path]);
  return {
    path: directory.path,
    remove() {
      execFileSync("umount", ["--lazy", directory.path]);
      directory.remove();
    },
  };
}
