import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const cliPath = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "packages", "cli", "bin", "ciab.mjs");

/** `ciab server` as its own process, for tests that kill it; resolves once it prints its URL. */
export interface ServerProcess {
  url: string;
  token: string;
  child: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startServerProcess(dataDirectory: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [cliPath, "server", "--port", "0", "--data-dir", dataDirectory], {
    // Sandboxes outlive the longest test file unless a test asks for a short life.
    env: { ...process.env, CIAB_SERVER_LOG_LEVEL: "warn", CIAB_SANDBOXES_DEFAULT_TIMEOUT_SECONDS: "3600", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s: ${stderr}`)), 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = stdout.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
  const token = readFileSync(path.join(dataDirectory, "admin-token"), "utf8").trim();
  return {
    url,
    token,
    child,
    async kill(signal = "SIGKILL") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill(signal);
      await exited;
    },
  };
}
