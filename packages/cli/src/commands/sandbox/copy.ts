import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { FileEntryBody } from "@ciab/protocol";
import type { Ciab, SandboxHandle } from "@ciab/sdk";
import { createSandboxOutput } from "../../terminal/sandbox-output.js";
import type { CommandContext } from "../../context.js";
import {
  joinIntoDirectory,
  parseCopyArguments,
  type CopyPlan,
  type LocalTarget,
  type SandboxTarget,
} from "../../parse/copy-arguments.js";
import { UsageError } from "../../usage-error.js";
import { findSandbox } from "../../resolve/references.js";

/** `ciab sandbox cp SRC DST`: a file or a directory either way, streamed; `-` is stdin or stdout. */
export async function copy(context: CommandContext, [source = "", destination = ""]: string[]): Promise<void> {
  const plan = parseCopyArguments(source, destination);
  const ciab = await context.client();
  if (await copiedAsDirectory(context, ciab, plan)) return;
  if (plan.direction === "upload") {
    const entry = await upload(ciab, plan.from, plan.to);
    context.print(entry, (value) => `${value.path} (${value.size} bytes)`);
  } else {
    const written = await download(ciab, plan.from, plan.to);
    if (written.path !== "-") {
      context.print(written, (value) => `${value.path} (${value.size} bytes)`);
    }
  }
}

async function upload(ciab: Ciab, from: LocalTarget, to: SandboxTarget): Promise<FileEntryBody> {
  const sandbox = await findSandbox(ciab, to.sandboxID);
  if (from.kind === "stdio") return sandbox.files.upload(to.path, process.stdin);
  const local = await stat(from.path);
  let path = to.path;
  if (path.endsWith("/") || (await isSandboxDirectory(sandbox, path))) {
    path = joinIntoDirectory(path, from.path);
  }
  return sandbox.files.upload(path, createReadStream(from.path), { mode: local.mode & 0o777 });
}

async function download(ciab: Ciab, from: SandboxTarget, to: LocalTarget): Promise<{ path: string; size: number }> {
  const sandbox = await findSandbox(ciab, from.sandboxID);
  const remote = await sandbox.files.stat(from.path);
  const stream = await sandbox.files.download(from.path);
  if (to.kind === "stdio") {
    // A file of the sandbox's shown on a terminal is cleaned like any of its output; to a pipe it is exact.
    const output = createSandboxOutput(process.stdout);
    for await (const chunk of stream) if (!output.write(chunk as Uint8Array)) await once(process.stdout, "drain");
    output.end();
    return { path: "-", size: remote.size };
  }
  let path = to.path;
  if (path.endsWith("/") || (await isLocalDirectory(path))) path = joinIntoDirectory(path, from.path);
  await pipeline(stream, createWriteStream(path, { mode: remote.mode & 0o777 || 0o644 }));
  return { path, size: (await stat(path)).size };
}

async function isSandboxDirectory(sandbox: SandboxHandle, path: string): Promise<boolean> {
  try {
    return (await sandbox.files.stat(path)).type === "dir";
  } catch (error) {
    if ((error as { status?: unknown }).status === 404) return false;
    throw error;
  }
}

async function isLocalDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Copies a directory (either way) when the source is one; answers whether it was. */
async function copiedAsDirectory(context: CommandContext, ciab: Ciab, plan: CopyPlan): Promise<boolean> {
  const { directoryTarget, downloadDirectory, uploadDirectory } = await import("./copy-directory.js");
  if (plan.direction === "upload") {
    if (plan.from.kind !== "file" || !(await isLocalDirectory(plan.from.path))) return false;
    const sandbox = await findSandbox(ciab, plan.to.sandboxID);
    const target = directoryTarget(plan.to.path, await isSandboxDirectory(sandbox, plan.to.path), plan.from.path);
    const copied = await uploadDirectory(context, sandbox, plan.from.path, target);
    context.print(copied, (value) => `${sandbox.id}:${value.path} (${value.bytes} bytes of tar)`);
    return true;
  }
  const sandbox = await findSandbox(ciab, plan.from.sandboxID);
  if ((await sandbox.files.stat(plan.from.path)).type !== "dir") return false;
  if (plan.to.kind === "stdio") throw new UsageError(`${plan.from.sandboxID}:${plan.from.path} is a directory: copy it to a local path`);
  const target = directoryTarget(plan.to.path, await isLocalDirectory(plan.to.path), plan.from.path);
  const copied = await downloadDirectory(context, sandbox, plan.from.path, target);
  context.print(copied, (value) =>
    `${value.path} (${value.files} files, ${value.directories} directories, ${value.symlinks} links)` +
    (value.skipped.length > 0 ? `; skipped (hard links, devices): ${value.skipped.join(", ")}` : ""),
  );
  return true;
}
