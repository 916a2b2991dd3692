import { once } from "node:events";
import { open, readFile, rename, stat, writeFile } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { setTimeout as sleep } from "node:timers/promises";
import { jobFiles, parseJobExit } from "./job-files.js";

/**
 * The job follower (docs/decisions/0038): started by ciab-agentd for a headless session whose agent is the
 * task's own job. It hands the entrypoint the job's env (`CIAB_JOB_LAUNCH`) once the work dir is ready,
 * prints the job's JSON lines from the entrypoint's output file, and exits with the job's exit status, so
 * agentd serves the job like any run it started: output by offset, exit status, resumable.
 */
const log = (message: string): void => void process.stderr.write(`ciab-job-follow: ${message}\n`);
const pollMs = 100;
const chunkBytes = 1024 * 1024;

const files = jobFiles(process.env.CIAB_RUN_DIR ?? "/run/ciab");
const entrypointPID = Number((await readFile(files.entrypointPID, "utf8").catch(() => "")).trim());
if (!Number.isInteger(entrypointPID) || entrypointPID <= 0) {
  log(`no job here: ${files.entrypointPID} names no entrypoint`);
  process.exit(2);
}

// A cancel reaches the job through the entrypoint, which stops it as ECS would; its exit line still comes.
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  process.on(signal, () => {
    try {
      process.kill(entrypointPID, "SIGTERM");
    } catch {
      // Already gone: the output file's end says how it ended.
    }
  });
}

await writeFile(`${files.launch}.partial`, JSON.stringify({ env: launchEnv() }), { mode: 0o600 });
await rename(`${files.launch}.partial`, files.launch);

let offset = 0;
let pending = "";
// A chunk may end inside a character: the decoder keeps its first bytes for the next one.
const decoder = new StringDecoder("utf8");
let status: number | undefined;
for (;;) {
  const size = (await stat(files.output).catch(() => undefined))?.size ?? 0;
  if (size > offset) {
    status = await readLines(Math.min(size, offset + chunkBytes));
    if (status !== undefined) break;
    continue;
  }
  if (!isAlive(entrypointPID)) {
    // The entrypoint is gone: one last look, since it may have written its exit line just before.
    const last = (await stat(files.output).catch(() => undefined))?.size ?? 0;
    if (last > offset) continue;
    log("the job ended without an exit status");
    status = 1;
    break;
  }
  await sleep(pollMs);
}
await writeFile(files.collected, "").catch(() => undefined);
process.exit(status);

function launchEnv(): Record<string, string> {
  const parsed = JSON.parse(process.env.CIAB_JOB_LAUNCH ?? "{}") as unknown;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("CIAB_JOB_LAUNCH is not a JSON object");
  return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

/** Prints the complete lines in [offset, end); answers the exit status when the exit line is among them. */
async function readLines(end: number): Promise<number | undefined> {
  const handle = await open(files.output, "r");
  try {
    const buffer = Buffer.alloc(end - offset);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    offset += bytesRead;
    pending += decoder.write(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
  let newline = pending.indexOf("\n");
  while (newline !== -1) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    const exit = parseJobExit(line);
    if (exit !== undefined) return exit;
    if (!process.stdout.write(`${line}\n`)) await once(process.stdout, "drain");
    newline = pending.indexOf("\n");
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
