import { readFileSync } from "node:fs";
import path from "node:path";
import { startServer, type RunningServer } from "../packages/server/src/index.js";
import { createSilentLogger } from "../packages/server/src/logger.js";
import { makeTempDirectory } from "../test/harness/temp-directory.js";

/** A real server on loopback with a temp data dir, and a JSON caller that keeps its connection alive. */
export async function startBenchServer(options: { env?: Record<string, string>; port?: number } = {}): Promise<{
  server: RunningServer;
  token: string;
  call(method: string, route: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}> {
  const data = makeTempDirectory("ciab-bench-");
  const server = await startServer({
    port: options.port ?? 0,
    dataDirectory: data.path,
    logger: createSilentLogger(),
    ...(options.env !== undefined && { env: options.env }),
  });
  const token = readFileSync(path.join(data.path, "admin-token"), "utf8").trim();
  const created: string[] = [];
  const call = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${server.url}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const parsed = (await response.json()) as Record<string, unknown>;
    if (response.status >= 400) throw new Error(`${method} ${route}: ${JSON.stringify(parsed)}`);
    if (method === "POST" && route === "/sandboxes") created.push(parsed.id as string);
    return { status: response.status, body: parsed };
  };
  return {
    server,
    token,
    call,
    async close() {
      for (const id of created) await call("DELETE", `/sandboxes/${id}`).catch(() => undefined);
      await server.close();
      data.remove();
    },
  };
}
