import { spawn } from "node:child_process";
import path from "node:path";
import { Transform } from "node:stream";
import type { SandboxHandle } from "@ciab/sdk";
import type { CommandContext } from "../../context.js";
import { exitCodeOf } from "../../format/exit-code.js";
import { formatBytes } from "../../format/bytes.js";
import { createProgress } from "../../progress.js";
import { extractTar, type ExtractResult } from "../../stream/tar-extract.js";
import { execWithStdin } from "./exec-stdin.js";

/**
 * Directories go as a tar stream through agentd: packed here by the local `tar` (the user's own files) and
 * unpacked in the sandbox by its `tar`, as the sandbox user, inside the jail; or packed there and unpacked
 * here by `extractTar`, which trusts nothing in the archive. Modes and symbolic links are kept; progress
 * shows on a terminal only.
 */
export async function uploadDirectory(
  context: CommandContext,
  sandbox: SandboxHandle,
  localDirectory: string,
  remoteDirectory: string,
): Promise<{ path: string; bytes: number }> {
  const progress = createProgress(process.stderr);
  const tar = spawn("tar", ["-c", "-f", "-", "-C", localDirectory, "."], { stdio: ["ignore", "pipe", "inherit"] });
  const tarExit = new Promise<number | null>((resolve, reject) => {
    tar.once("error", reject);
    tar.once("close", resolve);
  });
  let bytes = 0;
  // Counted as it is read (a "data" listener would let bytes flow before anyone reads them).
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      progress.update(`${formatBytes(bytes)} sent to ${remoteDirectory}`);
      done(null, chunk);
    },
  });
  tar.stdout.pipe(counted);
  const unpack = ["/bin/sh", "-c", 'mkdir -p -- "$1" && exec tar -x -f - --no-same-owner -C "$1"', "unpack", remoteDirectory];
  try {
    const code = await execWithStdin(context, sandbox, unpack, {}, counted);
    if ((await tarExit) !== 0) throw new Error(`the local tar could not read ${localDirectory}`);
    if (code !== 0) throw new Error(`unpacking into ${sandbox.id}:${remoteDirectory} failed (tar exited ${code})`);
  } finally {
    progress.stop();
    tar.kill();
  }
  return { path: remoteDirectory, bytes };
}

export async function downloadDirectory(
  context: CommandContext,
  sandbox: SandboxHandle,
  remoteDirectory: string,
  localDirectory: string,
): Promise<{ path: string } & ExtractResult> {
  const progress = createProgress(process.stderr);
  const controller = new AbortController();
  const events = sandbox.commands.stream(["tar", "-c", "-f", "-", "--hard-dereference", "-C", remoteDirectory, "."], {
    signal: controller.signal,
  });
  let exit: number | undefined;
  let received = 0;
  async function* stdout(): AsyncGenerator<Uint8Array> {
    for await (const event of events) {
      if (event.type === "exec.output" && event.stream === "stdout") {
        received += event.data.length;
        progress.update(`${formatBytes(received)} received from ${remoteDirectory}`);
        yield event.data;
      } else if (event.type === "exec.output") {
        context.sandboxOutput("stderr").write(event.data);
      } else if (event.type === "exec.exit") {
        exit = exitCodeOf(event);
      }
    }
  }
  const chunks = stdout();
  try {
    const result = await extractTar(chunks, localDirectory);
    for await (const _ of chunks) {
      // Past the archive's end: only the exit is left to read.
    }
    if (exit !== 0) throw new Error(`packing ${sandbox.id}:${remoteDirectory} failed (tar exited ${exit ?? "without a status"})`);
    return { path: localDirectory, ...result };
  } finally {
    progress.stop();
    controller.abort();
    context.endSandboxOutput();
  }
}

/** Where a directory lands: inside an existing directory (or one written with a trailing slash), as `cp -r`. */
export function directoryTarget(destination: string, destinationIsDirectory: boolean, source: string): string {
  if (!destinationIsDirectory && !destination.endsWith("/")) return destination;
  return path.posix.join(destination, path.posix.basename(source.replace(/\/+$/, "")) || ".");
}
