import { statfs } from "node:fs/promises";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { constants as zlibConstants, createGzip } from "node:zlib";
import { CiabError } from "../protocol.js";
import type { CommandRun, CommandRunner } from "./command-runner.js";

/** Bytes of tar's stderr kept for an error message; the rest is drained unread. */
const stderrKeepBytes = 4096;
/**
 * gzip's fastest level: it costs about half of the CPU of tar's default (6), and a work dir of sources and
 * build output grows by a few percent, so a snapshot takes about as long as reading the files.
 */
const packLevel = zlibConstants.Z_BEST_SPEED;
/** Bytes of gzip output per chunk: fewer, larger writes onto the agent channel. */
const packChunkBytes = 256 * 1024;

/** A tar running as the sandbox user over the whole work dir. */
export interface ArchiveRun {
  /** The gzip tarball as tar writes it. */
  stream: Readable;
  /** Settles when tar ended; rejects when it failed, so a caller never takes a cut-off archive as whole. */
  done: Promise<void>;
  kill(): void;
}

/**
 * Snapshots of /workspace with the system's `tar`, spawned by agentd (so as the sandbox user, inside the
 * jail): the control plane only moves bytes (docs/decisions/0017-artifacts.md). Links are archived as
 * links; GNU tar defers creating links that point outside or upwards until the end of an extraction, so
 * an archive cannot write through one of its own links.
 */
export class ArchiveService {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  /** tar writes the plain archive and agentd compresses it (on libuv's threads), so no gzip binary is needed. */
  async pack(): Promise<ArchiveRun> {
    const run = await this.#runner.spawn({
      command: ["tar", "--create", "--file=-", "--one-file-system", "--directory=.", "."],
      stdin: "ignore",
    });
    const stderr = keepStart(run.stderr);
    const gzip = createGzip({ level: packLevel, chunkSize: packChunkBytes });
    run.stdout.once("error", (error) => gzip.destroy(error));
    gzip.once("error", () => void run.kill("SIGKILL"));
    run.stdout.pipe(gzip);
    const exited = run.exited.then(async (exit) => {
      // GNU tar exits 1 when a file changed while it was read: the archive is still complete and valid.
      if (exit.exitCode === 0 || exit.exitCode === 1) return;
      throw tarError("pack", exit.exitCode, exit.signal, await stderr);
    });
    const done = Promise.all([exited, finished(gzip, { readable: false })]).then(() => undefined);
    return { stream: gzip, done, kill: () => void run.kill("SIGKILL") };
  }

  /** Unpacks a gzip tarball into the work dir, keeping modes; ownership becomes the sandbox user's. */
  async unpack(body: Readable, signal: AbortSignal): Promise<void> {
    const run: CommandRun = await this.#runner.spawn({
      command: ["tar", "--extract", "--gzip", "--file=-", "--no-same-owner", "--preserve-permissions", "--directory=."],
      stdin: "pipe",
    });
    const stderr = keepStart(run.stderr);
    const onAbort = (): void => void run.kill("SIGKILL");
    signal.addEventListener("abort", onAbort, { once: true });
    body.on("error", onAbort);
    run.stdout.resume();
    body.pipe(run.stdin!);
    try {
      const exit = await run.exited;
      if (exit.exitCode === 0) return;
      const message = await stderr;
      // tar reports a full disk as ENOSPC, or as a short write ("Wrote only 9216 of 10240 bytes").
      if (/No space left on device|Disk quota exceeded|Wrote only \d+ of \d+ bytes/i.test(message) || (await nearlyFull(run.cwd))) {
        throw new CiabError("insufficient_storage", `the sandbox's disk is too small for this snapshot: ${firstLine(message)}`);
      }
      throw tarError("unpack", exit.exitCode, exit.signal, message);
    } finally {
      signal.removeEventListener("abort", onAbort);
      body.unpipe(run.stdin!);
      body.resume();
    }
  }
}

/** Whether the work dir's filesystem is (nearly) out of space, when tar's words do not say so. */
async function nearlyFull(directory: string): Promise<boolean> {
  const stats = await statfs(directory).catch(() => undefined);
  return stats !== undefined && stats.bavail * stats.bsize < 1024 * 1024;
}

function keepStart(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      if (size >= stderrKeepBytes) return;
      chunks.push(chunk);
      size += chunk.length;
    });
    stream.once("close", () => resolve(Buffer.concat(chunks).subarray(0, stderrKeepBytes).toString("utf8")));
  });
}

function firstLine(text: string): string {
  return text.split("\n").find((line) => line.trim() !== "")?.slice(0, 300) ?? "";
}

function tarError(action: string, exitCode: number | null, signal: string | null, stderr: string): CiabError {
  const how = exitCode === null ? `was killed by ${signal}` : `exited ${exitCode}`;
  return new CiabError("internal", `tar (${action}) ${how}: ${firstLine(stderr)}`, { context: { exit_code: exitCode } });
}
