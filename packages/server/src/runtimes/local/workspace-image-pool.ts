import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { formatWorkspaceImage } from "./workspace-volume.js";

/** Images kept ready per size: enough for a burst of a few creates, a few MiB of host disk each. */
const readyPerSize = 2;
/** A half-made image older than this was left by a control plane that died while making it. */
const staleAfterMs = 60_000;

/**
 * Formatted, never-mounted workspace images made ahead of need (`<data dir>/workspace-images/`, root's,
 * 0700): mkfs ends with an fsync, which on a busy disk costs more than the rest of a provision, so a
 * provision takes a ready image and another is made behind it. Images are made under a temp name and
 * renamed in whole, and taken by rename, so no image is taken half-made or twice. No jail ever sees this
 * dir; an image reaches a sandbox exactly as mkfs left it.
 */
export class WorkspaceImagePool {
  readonly #directory: string;
  readonly #refills = new Map<number, Promise<void>>();
  #closed = false;

  constructor(dataDirectory: string) {
    this.#directory = path.resolve(dataDirectory, "workspace-images");
  }

  /** Puts a fresh image of `sizeBytes` at `target` (made on the spot when none is ready), then refills. */
  async take(target: string, sizeBytes: number): Promise<void> {
    await mkdir(this.#directory, { recursive: true, mode: 0o700 });
    let taken = false;
    for (const name of await this.#ready(sizeBytes)) {
      // ENOENT: another provision took it first. Any other failure (a sandbox dir on another file system,
      // EXDEV) leaves the pool aside for this provision.
      const outcome = await rename(path.join(this.#directory, name), target).then(
        () => "taken" as const,
        (error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? ("gone" as const) : ("unusable" as const)),
      );
      taken = outcome === "taken";
      if (outcome !== "gone") break;
    }
    if (!taken) await formatWorkspaceImage(target, sizeBytes);
    this.#refill(sizeBytes);
  }

  /** Stops making images and waits for those under way. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#refills.values());
  }

  #refill(sizeBytes: number): void {
    if (this.#closed || this.#refills.has(sizeBytes)) return;
    const refill = (async () => {
      // Best effort: a failure here only means the next provision formats its own image.
      while (!this.#closed && (await this.#ready(sizeBytes)).length < readyPerSize) {
        const name = `${sizeBytes}-${randomBytes(8).toString("hex")}.img`;
        const temporary = path.join(this.#directory, `.${name}.tmp`);
        try {
          await formatWorkspaceImage(temporary, sizeBytes);
          await rename(temporary, path.join(this.#directory, name));
        } catch {
          await rm(temporary, { force: true });
          return;
        }
      }
    })()
      .catch(() => undefined)
      .finally(() => this.#refills.delete(sizeBytes));
    this.#refills.set(sizeBytes, refill);
  }

  /** Names of ready images of this size; half-made ones left by a dead control plane are removed. */
  async #ready(sizeBytes: number): Promise<string[]> {
    const names = await readdir(this.#directory).catch(() => [] as string[]);
    const now = Date.now();
    for (const name of names.filter((each) => each.startsWith(".") && each.endsWith(".tmp"))) {
      const file = path.join(this.#directory, name);
      const modified = await stat(file).then((stats) => stats.mtimeMs, () => now);
      if (now - modified > staleAfterMs) await rm(file, { force: true });
    }
    return names.filter((name) => name.startsWith(`${sizeBytes}-`) && name.endsWith(".img"));
  }
}
