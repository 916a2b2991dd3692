import { appendFileSync, mkdirSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";

/**
 * A build's Packer log: kept in `<data dir>/image-builds/<id>.log`, bounded by `[packer] max_log_bytes`
 * (past it one line says so and the rest is dropped), and followed live by readers of the SSE stream.
 */
export class ImageBuildLogs {
  private readonly listeners = new Map<string, Set<(line: string | null) => void>>();
  private readonly sizes = new Map<string, number>();

  constructor(
    private readonly directory: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
  }

  pathOf(buildID: string): string {
    return path.join(this.directory, `${buildID}.log`);
  }

  append(buildID: string, line: string): void {
    const size = this.sizes.get(buildID) ?? 0;
    if (size > this.maxBytes) return;
    const text = size + line.length + 1 > this.maxBytes ? "[log truncated at [packer] max_log_bytes]\n" : `${line}\n`;
    this.sizes.set(buildID, size + (text === `${line}\n` ? text.length : this.maxBytes + 1));
    appendFileSync(this.pathOf(buildID), text, { mode: 0o600 });
    for (const listener of this.listeners.get(buildID) ?? []) listener(text.slice(0, -1));
  }

  /** The build ended: live readers get the end of the stream. */
  end(buildID: string): void {
    for (const listener of this.listeners.get(buildID) ?? []) listener(null);
    this.listeners.delete(buildID);
    this.sizes.delete(buildID);
  }

  /** Lines written so far (at most `maxBytes`), then live lines until `end`; null marks the end. */
  follow(buildID: string, live: boolean, onLine: (line: string | null) => void): { backlog: Promise<string>; stop(): void } {
    const set = this.listeners.get(buildID) ?? new Set();
    if (live) {
      this.listeners.set(buildID, set);
      set.add(onLine);
    }
    return {
      backlog: readBounded(this.pathOf(buildID), this.maxBytes + 1024),
      stop: () => set.delete(onLine),
    };
  }
}

async function readBounded(file: string, maxBytes: number): Promise<string> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return "";
  try {
    const buffer = Buffer.alloc(maxBytes);
    const { bytesRead } = await handle.read(buffer, 0, maxBytes, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}
