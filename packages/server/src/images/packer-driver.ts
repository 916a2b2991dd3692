import { execFile, spawn } from "node:child_process";
import { access, constants, readFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { CiabError } from "@ciab/protocol";
import { applyRecord, emptyProgress, parseMachineLine, type BuildProgress } from "./machine-readable.js";

export interface PackerRun {
  /** The template directory; Packer runs in it and builds every `*.pkr.hcl` there. */
  directory: string;
  /** Only variables the template declares: Packer refuses any other. */
  variables: Record<string, string>;
  env: NodeJS.ProcessEnv;
  /** Aborting interrupts Packer's process group, so that it removes what it created, then waits for it. */
  signal: AbortSignal;
  /** How long Packer may take to clean up after an interrupt before its group is killed. */
  cleanupGraceMs: number;
  onLine(line: string): void;
  /** Packer started with this pid, which is also its process group's id. */
  onStart(pid: number): void;
  onProgress(progress: BuildProgress): void;
}

export interface PackerResult {
  exitCode: number | null;
  progress: BuildProgress;
}

/**
 * Runs `packer build -machine-readable` in its own process group. Packer ignores SIGINT sent to its own pid
 * while a build runs, but cancels cleanly (instance, key pair, security group) when the signal reaches its
 * whole group, as a terminal's Ctrl-C does; so the group is what we signal.
 */
export async function runPacker(binary: string, run: PackerRun): Promise<PackerResult> {
  const args = ["build", "-machine-readable", "-color=false", ...Object.entries(run.variables).flatMap(([key, value]) => ["-var", `${key}=${value}`]), "."];
  const child = spawn(binary, args, { cwd: run.directory, env: run.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const progress = emptyProgress();
  if (child.pid !== undefined) run.onStart(child.pid);
  const group = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  let killTimer: NodeJS.Timeout | undefined;
  const interrupt = () => {
    group("SIGINT");
    killTimer = setTimeout(() => group("SIGKILL"), run.cleanupGraceMs);
  };
  if (run.signal.aborted) interrupt();
  else run.signal.addEventListener("abort", interrupt, { once: true });

  const stdout = createInterface({ input: child.stdout, crlfDelay: Infinity });
  stdout.on("line", (line) => {
    const record = parseMachineLine(line);
    if (!record) return run.onLine(line.slice(0, 64 * 1024));
    const text = applyRecord(progress, record);
    if (text !== undefined) run.onLine(text);
    if (record.type === "ui" || record.type === "artifact") run.onProgress(progress);
  });
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on("line", (line) => {
    run.onLine(line.slice(0, 64 * 1024));
    if (progress.errors.length < 20 && line.trim() !== "") progress.errors.push(line.slice(0, 4000));
  });
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on("error", (error) => reject(new CiabError("capability_unsupported", `cannot run packer (${binary}): ${error.message}`, { cause: error })));
      child.on("close", (code) => resolve(code));
    });
    return { exitCode, progress };
  } finally {
    clearTimeout(killTimer);
    run.signal.removeEventListener("abort", interrupt);
    group("SIGKILL");
  }
}

/**
 * The packer binary to run: `binary_path` as a path, or found on PATH. Missing and `auto_install`: Debian's
 * `packer` package (the version the builtin templates target); missing otherwise: an error naming it.
 */
export async function locatePacker(binaryPath: string, autoInstall: boolean, env: NodeJS.ProcessEnv): Promise<string> {
  const found = await findExecutable(binaryPath, env);
  if (found) return found;
  if (autoInstall && binaryPath === "packer") {
    await new Promise<void>((resolve, reject) => {
      execFile("apt-get", ["install", "-y", "-qq", "packer"], { env: { ...env, DEBIAN_FRONTEND: "noninteractive" }, timeout: 600_000 }, (error, _stdout, stderr) =>
        error ? reject(new CiabError("capability_unsupported", `installing packer with apt-get failed: ${String(stderr).trim().slice(0, 500)}`, { cause: error })) : resolve(),
      );
    });
    const installed = await findExecutable(binaryPath, env);
    if (installed) return installed;
  }
  throw new CiabError(
    "capability_unsupported",
    `packer is not installed (${binaryPath} not found): install Debian's packer package (apt-get install packer) or set [packer] binary_path, or auto_install = true`,
  );
}

async function findExecutable(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const candidates = name.includes("/") ? [name] : (env.PATH ?? "").split(":").filter(Boolean).map((directory) => path.join(directory, name));
  for (const candidate of candidates) {
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/**
 * Interrupts the process group of a Packer that a previous control plane started and lost, if that pid is
 * still a packer; waits up to `graceMs` for it to clean up, then kills the group.
 */
export async function interruptOrphanedPacker(pid: number, graceMs: number): Promise<boolean> {
  const isPacker = async () => (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0").some((part) => /(^|\/)packer$/.test(part));
  if (!(await isPacker())) return false;
  try {
    process.kill(-pid, "SIGINT");
  } catch {
    return false;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && (await isPacker())) await new Promise((resolve) => setTimeout(resolve, 200));
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Gone already.
  }
  return true;
}
