import http from "node:http";
import { execFileAsync } from "./measure.js";
import { previewAppSource } from "../test/previews/preview-app.js";
import { cookieFrom, pathOf, previewRequest } from "../test/previews/preview-client.js";
import { startBenchServer } from "./bench-server.js";

/**
 * The test app served from a local sandbox with the host's network: the same server is reachable
 * through its preview URL (ours) and straight at 127.0.0.1:<port> (the baseline, no agentd, no proxy).
 */
export async function startPreviewFixture(): Promise<{ ours: Endpoint; direct: Endpoint; sandboxID: string; close(): Promise<void> }> {
  const bench = await startBenchServer();
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const sandbox = (await bench.call("POST", "/sandboxes", { runtime: "local", network: "host" })).body;
  const sandboxID = String(sandbox.id);
  await fetch(`${bench.server.url}/api/v1/sandboxes/${sandboxID}/files/upload?path=/workspace/app.js`, {
    method: "PUT",
    headers: { authorization: `Bearer ${bench.token}`, "content-type": "application/octet-stream" },
    body: previewAppSource,
  }).then(async (response) => {
    if (!response.ok) throw new Error(`upload: ${response.status} ${await response.text()}`);
  });
  const session = (await bench.call("POST", "/sessions", { provider: "shell", sandbox_id: sandboxID, prompt: `exec /opt/ciab/bin/node /workspace/app.js ${port}` })).body;
  const sessionID = String(session.id);
  let url: string | undefined;
  for (let attempt = 0; attempt < 100 && url === undefined; attempt += 1) {
    const listed = await bench.call("GET", `/sessions/${sessionID}/ports`).catch(() => ({ body: { ports: [] } }));
    url = (listed.body.ports as { port: number; url: string }[]).find((entry) => entry.port === port)?.url;
    if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (url === undefined) throw new Error(`port ${port} did not listen`);
  const first = await previewRequest(bench.server.url, pathOf(url));
  const cookie = cookieFrom(first.headers, "ciab_preview");
  if (first.status !== 302 || !cookie) throw new Error(`cookie exchange answered ${first.status}`);
  const server = new URL(bench.server.url);
  return {
    /** Where the same app answers through the preview and straight. */
    ours: { host: server.hostname, port: Number(server.port), prefix: `/sandbox/preview/${sessionID}/${port}`, headers: { cookie } },
    direct: { host: "127.0.0.1", port, prefix: "", headers: {} },
    sandboxID,
    close: () => bench.close(),
  };
}

export interface Endpoint {
  host: string;
  port: number;
  prefix: string;
  headers: Record<string, string>;
}

/** One GET, its body drained; answers the bytes received. */
export function get(endpoint: Endpoint, path: string, agent: http.Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: endpoint.host, port: endpoint.port, path: endpoint.prefix + path, headers: endpoint.headers, agent }, (response) => {
      let bytes = 0;
      response.on("data", (chunk: Buffer) => (bytes += chunk.length));
      response.once("end", () => (response.statusCode === 200 ? resolve(bytes) : reject(new Error(`status ${response.statusCode}`))));
      response.once("error", reject);
    });
    request.once("error", reject);
  });
}

/**
 * One GET by curl, a client in a process of its own (as a browser is): the control plane's event loop
 * then carries only the proxy, not the reading side too. Answers curl's own transfer time in ms.
 */
export async function curlGet(endpoint: Endpoint, path: string, expectedBytes: number): Promise<number> {
  const headers = Object.entries(endpoint.headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const url = `http://${endpoint.host}:${endpoint.port}${endpoint.prefix}${path}`;
  const { stdout } = await execFileAsync("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", ...headers, url]);
  const [status, size, seconds] = stdout.trim().split(" ");
  if (status !== "200" || Number(size) !== expectedBytes) throw new Error(`curl: status ${status}, ${size} bytes`);
  return Number(seconds) * 1000;
}
