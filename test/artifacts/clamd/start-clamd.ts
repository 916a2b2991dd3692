import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDirectory } from "../../harness/temp-directory.js";

const signatures = path.dirname(fileURLToPath(import.meta.url));

export interface RunningClamd {
  socketPath: string;
  /** Stops clamd; the socket then refuses connections (a scanner that is down). */
  stop(): Promise<void>;
}

/**
 * A real clamd on a unix socket of its own, with only the test signatures shipped beside this file (there
 * is no freshclam here). It takes a few seconds to load, so a test file starts one and shares it.
 */
export async function startClamd(): Promise<RunningClamd> {
  const directory = makeTempDirectory("ciab-clamd-");
  const database = path.join(directory.path, "db");
  mkdirSync(database);
  for (const name of ["ciab-test.hdb", "ciab-test.ndb"]) copyFileSync(path.join(signatures, name), path.join(database, name));
  const socketPath = path.join(directory.path, "clamd.sock");
  const configPath = path.join(directory.path, "clamd.conf");
  mkdirSync(path.join(directory.path, "tmp"));
  writeFileSync(
    configPath,
    [
      "Foreground yes",
      `LocalSocket ${socketPath}`,
      `DatabaseDirectory ${database}`,
      `TemporaryDirectory ${path.join(directory.path, "tmp")}`,
      "StreamMaxLength 200M",
      "MaxFileSize 200M",
      "MaxScanSize 200M",
      `LogFile ${path.join(directory.path, "clamd.log")}`,
      "",
    ].join("\n"),
  );
  const child = spawn("clamd", ["--config-file", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 60_000;
  while (!(await answersPing(socketPath))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      directory.remove();
      throw new Error(`clamd did not start: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    socketPath,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
      directory.remove();
    },
  };
}

function answersPing(socketPath: string): Promise<boolean> {
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = net.connect({ path: socketPath });
    socket.setTimeout(1000, () => socket.destroy());
    let answer = "";
    socket.on("connect", () => socket.write("zPING\0"));
    socket.on("data", (chunk) => void (answer += chunk.toString()));
    socket.on("error", () => resolve(false));
    socket.on("close", () => resolve(answer.startsWith("PONG")));
  });
}
