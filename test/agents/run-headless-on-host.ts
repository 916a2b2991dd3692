import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import type { NewSessionEvent } from "../../packages/protocol/src/index.js";
import type { LaunchContext, Provider } from "../../packages/server/src/providers/provider.js";

export const defaultToolsDirectory = path.join(homedir(), ".cache", "ciab", "tools");

export interface HeadlessRun {
  exitCode: number | null;
  stdoutLines: string[];
  stderr: string;
  events: NewSessionEvent[];
  context: LaunchContext;
  /** Removes the temp home and work directories. */
  remove(): Promise<void>;
}

/**
 * Runs a provider's headless launch on the host the way a sandbox would: its files written, its command
 * spawned with only its env (plus PATH to the tools dir and node), cwd a fresh work directory, the gateway
 * being `modelServerURL` with the same `/anthropic`, `/openai`, `/google` prefixes.
 */
export async function runHeadlessOnHost(
  provider: Provider,
  options: {
    prompt: string;
    modelServerURL: string;
    model?: string;
    toolsDirectory?: string;
    timeoutMilliseconds?: number;
    /** Leave stdin an open pipe, to show the launch itself does not wait on it. */
    keepStdinOpen?: boolean;
  },
): Promise<HeadlessRun> {
  const root = await mkdtemp(path.join(tmpdir(), `ciab-${provider.name}-`));
  const context: LaunchContext = {
    gatewayBaseURL: {
      anthropic: `${options.modelServerURL}/anthropic`,
      openai: `${options.modelServerURL}/openai`,
      google: `${options.modelServerURL}/google`,
    },
    gatewayToken: `ciab-gw-${randomBytes(12).toString("hex")}`,
    model: options.model,
    homeDirectory: path.join(root, "home"),
    workDirectory: path.join(root, "work"),
  };
  await mkdir(context.homeDirectory);
  await mkdir(context.workDirectory);
  const launch = provider.headless(context, options.prompt);
  for (const file of launch.files) {
    await mkdir(path.dirname(file.path), { recursive: true });
    await writeFile(file.path, file.content, { mode: file.mode ?? 0o644 });
  }
  const toolsBinaries = path.join(options.toolsDirectory ?? defaultToolsDirectory, "node_modules", ".bin");
  const env = { PATH: `${toolsBinaries}:${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, LANG: "C.UTF-8", ...launch.env };
  const [command, ...commandArguments] = launch.command;
  const stdin = options.keepStdinOpen ? "pipe" : "ignore";
  const child = spawn(command!, commandArguments, { cwd: context.workDirectory, env, stdio: [stdin, "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (data: string) => (stdout += data));
  child.stderr!.setEncoding("utf8").on("data", (data: string) => (stderr += data));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMilliseconds ?? 90_000);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  }).finally(() => clearTimeout(timer));
  const stdoutLines = stdout.split("\n").filter((line) => line !== "");
  const parser = provider.createParser();
  const events = [...stdoutLines.flatMap((line) => parser.parseLine(line)), ...parser.finish()];
  return { exitCode, stdoutLines, stderr, events, context, remove: () => rm(root, { recursive: true, force: true }) };
}
