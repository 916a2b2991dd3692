import { execFile } from "node:child_process";
import { mkdir, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { CiabError } from "@ciab/protocol";

const execFileAsync = promisify(execFile);

export interface ToolInstall {
  npmPackage: string;
  version: string;
  binary: string;
}

export interface ToolInstallProgress {
  phase: "waiting_for_lock" | "installing" | "ready";
  message: string;
}

export interface EnsureToolInstalledOptions {
  onProgress?: (progress: ToolInstallProgress) => void;
  signal?: AbortSignal;
}

const lockFileName = ".ciab-install.lock";
/** A lock older than this is left over from a killed install. */
const staleLockMilliseconds = 15 * 60_000;
const installTimeoutMilliseconds = 10 * 60_000;
/** Binaries this process has seen answer `--version`, so repeated launches skip the check. */
const verifiedBinaries = new Set<string>();

/**
 * Makes `<toolsDirectory>/node_modules/.bin/<binary>` exist at the pinned version and answer `--version`.
 * Installs are serialized per directory by a lock file, because two npm runs in one prefix corrupt it.
 * The tools dir gets its own package.json: with `--no-save`, each install would prune the others.
 */
export async function ensureToolInstalled(
  install: ToolInstall,
  toolsDirectory: string,
  options: EnsureToolInstalledOptions = {},
): Promise<{ binaryPath: string; installed: boolean }> {
  const binaryPath = path.join(toolsDirectory, "node_modules", ".bin", install.binary);
  const verifiedKey = `${binaryPath}@${install.version}`;
  if (verifiedBinaries.has(verifiedKey) || (await isToolReady(install, toolsDirectory, options.signal))) {
    verifiedBinaries.add(verifiedKey);
    return { binaryPath, installed: false };
  }
  await mkdir(toolsDirectory, { recursive: true });
  const release = await acquireLock(toolsDirectory, install, options);
  try {
    // Another process may have installed it while we waited for the lock.
    if (await isToolReady(install, toolsDirectory, options.signal)) return { binaryPath, installed: false };
    options.onProgress?.({ phase: "installing", message: `installing ${install.npmPackage}@${install.version}` });
    await writeToolsPackageJSON(toolsDirectory, install.npmPackage);
    await runNpmInstall(install, toolsDirectory, options.signal);
    if (!(await isToolReady(install, toolsDirectory, options.signal))) {
      throw new CiabError("runtime_error", `${install.binary} does not run after installing ${install.npmPackage}@${install.version}`, {
        context: { npm_package: install.npmPackage, version: install.version, binary_path: binaryPath },
      });
    }
    verifiedBinaries.add(verifiedKey);
    options.onProgress?.({ phase: "ready", message: `${install.npmPackage}@${install.version} installed` });
    return { binaryPath, installed: true };
  } finally {
    await release();
  }
}

/** True when the pinned version is in node_modules and its binary prints a version (the stub exits 0 too). */
async function isToolReady(install: ToolInstall, toolsDirectory: string, signal: AbortSignal | undefined): Promise<boolean> {
  const manifestPath = path.join(toolsDirectory, "node_modules", install.npmPackage, "package.json");
  try {
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as { version?: unknown };
    if (manifest.version !== install.version) return false;
    const binaryPath = path.join(toolsDirectory, "node_modules", ".bin", install.binary);
    const { stdout, stderr } = await execFileAsync(binaryPath, ["--version"], {
      env: toolEnvironment(),
      timeout: 30_000,
      signal,
    });
    // pi prints its version on stderr; Claude Code's unlinked stub prints an error and no version.
    return /\d+\.\d+\.\d+/.test(`${stdout}\n${stderr}`);
  } catch {
    signal?.throwIfAborted();
    return false;
  }
}

function toolEnvironment(): NodeJS.ProcessEnv {
  const nodeDirectory = path.dirname(process.execPath);
  return {
    ...process.env,
    PATH: `${nodeDirectory}:${process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"}`,
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    PI_OFFLINE: "1",
    PI_TELEMETRY: "0",
  };
}

/**
 * npm 11 skips dependency install scripts unless `allowScripts` lists the package; Claude Code's script
 * links its native binary, so every package we install is allowed (they are pinned and chosen by us).
 */
async function writeToolsPackageJSON(toolsDirectory: string, npmPackage: string): Promise<void> {
  const manifestPath = path.join(toolsDirectory, "package.json");
  let manifest: { name?: string; private?: boolean; allowScripts?: Record<string, boolean>; dependencies?: Record<string, string> } = {};
  try {
    manifest = JSON.parse(await readFile(manifestPath, "utf8")) as typeof manifest;
  } catch {
    manifest = { name: "ciab-tools", private: true };
  }
  manifest.allowScripts = { ...manifest.allowScripts, [npmPackage]: true };
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}

async function runNpmInstall(install: ToolInstall, toolsDirectory: string, signal: AbortSignal | undefined): Promise<void> {
  const npmArguments = [
    "install",
    "--prefix",
    toolsDirectory,
    "--save-exact",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    `${install.npmPackage}@${install.version}`,
  ];
  try {
    await execFileAsync("npm", npmArguments, {
      cwd: toolsDirectory,
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` },
      timeout: installTimeoutMilliseconds,
      maxBuffer: 16 * 1024 * 1024,
      signal,
    });
  } catch (error) {
    signal?.throwIfAborted();
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new CiabError("runtime_error", `npm install ${install.npmPackage}@${install.version} failed`, {
      cause: error,
      context: { npm_package: install.npmPackage, version: install.version, stderr: stderr.slice(-2000) },
      retryable: true,
    });
  }
}

async function acquireLock(
  toolsDirectory: string,
  install: ToolInstall,
  options: EnsureToolInstalledOptions,
): Promise<() => Promise<void>> {
  const lockPath = path.join(toolsDirectory, lockFileName);
  let reported = false;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(lockPath, "wx");
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (await isLockStale(lockPath)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (!reported) {
      options.onProgress?.({ phase: "waiting_for_lock", message: `waiting for another install in ${toolsDirectory} (${install.npmPackage})` });
      reported = true;
    }
    await sleep(250, undefined, { signal: options.signal });
  }
}

async function isLockStale(lockPath: string): Promise<boolean> {
  try {
    const [content, info] = await Promise.all([readFile(lockPath, "utf8"), stat(lockPath)]);
    if (Date.now() - info.mtimeMs > staleLockMilliseconds) return true;
    const pid = Number.parseInt(content.trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 5_000;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: the owner is gone. ENOENT: the lock vanished between our checks.
    return (error as NodeJS.ErrnoException).code === "ESRCH" || (error as NodeJS.ErrnoException).code === "ENOENT";
  }
}
