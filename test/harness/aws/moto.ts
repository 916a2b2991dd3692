import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { makeTempDirectory } from "../temp-directory.js";
import { writeAMIsFile } from "./amis.js";

export interface Moto {
  /** `http://127.0.0.1:<port>`, for an AWS SDK client's `endpoint`. */
  endpoint: string;
  /** Ends moto_server (its state goes with it); safe to call twice. */
  stop(): Promise<void>;
}

const startTimeoutMs = 30_000;

/**
 * moto's app served one request at a time. moto_server serves requests on threads and its DynamoDB does not
 * apply a conditional write or a transaction atomically against another thread's; DynamoDB does, so tests
 * of conditional writes under concurrency want this.
 */
const serialMoto = [
  "-c",
  [
    "import sys",
    "from werkzeug.serving import run_simple",
    "from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app",
    "run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app), threaded=False)",
  ].join("\n"),
];

/**
 * Starts moto_server on a free loopback port with the harness's AMIs (amis.ts) as its only AMIs; `serial`
 * serves one request at a time (see serialMoto).
 */
export async function startMoto(options: { serial?: boolean } = {}): Promise<Moto> {
  const temp = makeTempDirectory("ciab-moto-");
  const port = await freePort();
  const [command, args] = options.serial ? ["python3", [...serialMoto, "127.0.0.1", String(port)]] : ["moto_server", ["-H", "127.0.0.1", "-p", String(port)]];
  const child = spawn(command, args, {
    env: { ...process.env, MOTO_AMIS_PATH: writeAMIsFile(temp.path) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("error", (error) => (stderr += String(error)));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
    }
    temp.remove();
  };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`moto_server exited before answering: ${stderr}`);
    }
    try {
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      return { endpoint, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`moto_server did not answer on ${endpoint} in ${startTimeoutMs} ms: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
