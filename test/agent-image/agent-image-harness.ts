import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { makeTempDirectory } from "../harness/temp-directory.js";

export interface ContainerRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** One `docker run` of the image to its end, on the host's loopback (the model server is on 127.0.0.1). */
export function runContainer(image: string, options: { name: string; env: Record<string, string>; mounts?: string[]; timeoutMs?: number }): Promise<ContainerRun> {
  const argv = ["run", "--rm", "--name", options.name, "--network", "host", "--stop-timeout", "40"];
  for (const [name, value] of Object.entries(options.env)) argv.push("-e", `${name}=${value}`);
  for (const mount of options.mounts ?? []) argv.push("-v", mount);
  argv.push(image);
  const started = performance.now();
  const child = spawn("docker", argv, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => execFileSync("docker", ["rm", "-f", options.name], { stdio: "ignore" }), options.timeoutMs ?? 90_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? -1, stdout, stderr, durationMs: performance.now() - started });
    });
  });
}

export interface Job {
  /** The host dir mounted at /workspace. */
  workspace: string;
  env: Record<string, string>;
  mounts: string[];
  remove(): void;
}

/** A work dir, and pi's agent dir with a models.json pointing pi at the scripted model server. */
export function makeJob(modelServerURL: string): Job {
  const temp = makeTempDirectory("ciab-agent-image-");
  const workspace = path.join(temp.path, "workspace");
  const agentDirectory = path.join(temp.path, "pi-agent");
  mkdirSync(workspace);
  mkdirSync(agentDirectory);
  // The container runs as `operator` (uid 1000): both dirs must be writable for it.
  chmodSync(workspace, 0o777);
  chmodSync(agentDirectory, 0o777);
  const models = {
    providers: {
      scripted: {
        baseUrl: `${modelServerURL}/anthropic`,
        api: "anthropic-messages",
        apiKey: "SCRIPTED_API_KEY",
        models: [{ id: "claude-sonnet-4-5", contextWindow: 200_000, maxTokens: 32_000 }],
      },
    },
  };
  writeFileSync(path.join(agentDirectory, "models.json"), JSON.stringify(models), { mode: 0o644 });
  return {
    workspace,
    env: { JOB_PROVIDER: "scripted", JOB_MODEL: "claude-sonnet-4-5", PI_CODING_AGENT_DIR: "/pi-agent", SCRIPTED_API_KEY: "sk-scripted-not-real" },
    mounts: [`${workspace}:/workspace`, `${agentDirectory}:/pi-agent`],
    remove: temp.remove,
  };
}

export function removeContainer(name: string): void {
  try {
    execFileSync("docker", ["rm", "-f", name], { stdio: "ignore" });
  } catch {
    // already gone
  }
}
