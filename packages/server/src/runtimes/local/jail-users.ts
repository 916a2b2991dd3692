import { mkdir, open, readFile, unlink } from "node:fs/promises";
import path from "node:path";
import { randomInt } from "node:crypto";
import { CiabError } from "@ciab/protocol";

/**
 * Host uids for jails, one per sandbox, from `[runtime.local] jail_uid_base` on. A uid is held by a claim
 * file `<dataDirectory>/jail-uids/<uid>` created exclusively, so two control planes sharing a data dir never
 * hand out the same one, and a jail never shares its host uid with another jail (which could then signal,
 * or read the files of, that one's processes if it ever got out of its namespaces).
 */
export interface JailUserRange {
  base: number;
  count: number;
}

function claimsDirectory(dataDirectory: string): string {
  return path.resolve(dataDirectory, "jail-uids");
}

/** Claims a free uid for `sandboxID`; the same uid serves as its gid. */
export async function claimJailUser(dataDirectory: string, range: JailUserRange, sandboxID: string): Promise<number> {
  const directory = claimsDirectory(dataDirectory);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  // A random start keeps concurrent claims from racing for the same first uid.
  const start = randomInt(range.count);
  for (let step = 0; step < range.count; step++) {
    const uid = range.base + ((start + step) % range.count);
    const file = await open(path.join(directory, String(uid)), "wx", 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") return undefined;
      throw error;
    });
    if (file === undefined) continue;
    await file.writeFile(sandboxID);
    await file.close();
    return uid;
  }
  throw new CiabError("runtime_error", `all ${range.count} jail uids from ${range.base} are in use`, { retryable: true });
}

/** Frees `uid` once nothing of its sandbox runs any more; only a claim of that sandbox is removed. */
export async function releaseJailUser(dataDirectory: string, uid: number, sandboxID: string): Promise<void> {
  const file = path.join(claimsDirectory(dataDirectory), String(uid));
  const holder = await readFile(file, "utf8").catch(() => undefined);
  if (holder === sandboxID) await unlink(file).catch(() => undefined);
}
