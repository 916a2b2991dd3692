import { readFileSync } from "node:fs";
import http from "node:http";
import { startServerProcess, type ServerProcess } from "../harness/server-process.js";
import { makeTempDirectory } from "../harness/temp-directory.js";

/** A control plane in its own process, so its RSS and fds are its own, with helpers for hostile clients. */
export interface AttackServer {
  url: string;
  token: string;
  process: ServerProcess;
  pid: number;
  /** One JSON call with the admin token; the body is parsed when it is JSON. */
  api(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Resident memory of the server process, in bytes. */
  rssBytes(): number;
  /** Stops the process (its sandboxes live on) and starts another on the same data dir. */
  restart(): Promise<void>;
  dataDirectory: string;
  close(): Promise<void>;
}

export async function startAttackServer(env: Record<string, string> = {}): Promise<AttackServer> {
  const data = makeTempDirectory("ciab-attack-");
  // Fuzzed image builds must reach nothing: amazon-ebs goes to a closed loopback port with static credentials
  // (no metadata lookup), and build dirs stay in the data dir.
  const serverEnv = {
    CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0",
    CIAB_PACKER_ENDPOINT: "http://127.0.0.1:9",
    CIAB_PACKER_WORK_DIR: `${data.path}/packer`,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_EC2_METADATA_DISABLED: "true",
    ...env,
  };
  let server = await startServerProcess(data.path, serverEnv);
  const api: AttackServer["api"] = async (method, route, body, headers = {}) => {
    const response = await fetch(`${server.url}/api/v1${route}`, {
      method,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(body !== undefined && { "content-type": "application/json" }),
        ...headers,
      },
      ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) };
    } catch {
      return { status: response.status, body: text };
    }
  };
  return {
    get url() {
      return server.url;
    },
    get token() {
      return server.token;
    },
    get process() {
      return server;
    },
    get pid() {
      return server.child.pid!;
    },
    dataDirectory: data.path,
    api,
    rssBytes: () => {
      const status = readFileSync(`/proc/${server.child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async restart() {
      await server.kill("SIGTERM");
      server = await startServerProcess(data.path, serverEnv);
    },
    async close() {
      try {
        const { body } = await api("GET", "/sandboxes");
        for (const sandbox of body?.sandboxes ?? []) await api("DELETE", `/sandboxes/${sandbox.id}`);
        await server.kill("SIGTERM");
      } finally {
        await server.kill("SIGKILL");
        data.remove();
      }
    },
  };
}

/** A raw HTTP/1.1 request, for what fetch would refuse or rewrite (bad escapes, huge headers). */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? "GET", path: options.path, headers: options.headers ?? {}, insecureHTTPParser: true });
    request.once("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.once("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: response.statusCode!, body: JSON.parse(text) });
        } catch {
          resolve({ status: response.statusCode!, body: text });
        }
      });
      response.once("error", reject);
    });
    request.once("error", reject);
    request.end(options.body);
  });
}
