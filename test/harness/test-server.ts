import { readFileSync } from "node:fs";
import path from "node:path";
import { startServer, type RunningServer } from "../../packages/server/src/index.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import { makeTempDirectory } from "./temp-directory.js";

export interface TestServer {
  url: string;
  token: string;
  dataDirectory: string;
  /** One JSON call with the admin token (or `token`), answering status and parsed body. */
  api(method: string, route: string, body?: unknown, options?: { token?: string; headers?: Record<string, string> }): Promise<ApiAnswer>;
  server: RunningServer;
  /** Stops the server, destroys what it created unless `keepMachines`, and removes the data dir. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

export interface ApiAnswer {
  status: number;
  // Tests read fields freely; the shapes are checked by the assertions themselves.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function startTestServer(options: { env?: Record<string, string>; dataDirectory?: string; port?: number } = {}): Promise<TestServer> {
  const temp = options.dataDirectory ? undefined : makeTempDirectory("ciab-srv-");
  const dataDirectory = options.dataDirectory ?? temp!.path;
  const server = await startServer({
    port: options.port ?? 0,
    dataDirectory,
    // Sandboxes outlive the longest test file unless a test asks for a short life.
    env: { CIAB_SERVER_RECONCILE_INTERVAL_SECONDS: "0", CIAB_SANDBOXES_DEFAULT_TIMEOUT_SECONDS: "3600", ...options.env },
    logger: createSilentLogger(),
  });
  const token = readFileSync(path.join(dataDirectory, "admin-token"), "utf8").trim();
  const workspaceTokens: string[] = [];
  const api: TestServer["api"] = async (method, route, body, callOptions = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${callOptions.token ?? token}`, ...callOptions.headers };
    let payload: string | undefined;
    if (body !== undefined) {
      headers["content-type"] ??= "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const response = await fetch(`${server.url}/api/v1${route}`, { method, headers, ...(payload !== undefined && { body: payload }) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Non-JSON answers (downloads, SSE) stay text.
    }
    // A workspace made through here gets its sandboxes ended by `close` too, not only the admin's.
    const made = parsed as { token?: unknown } | undefined;
    if (method === "POST" && route === "/workspaces" && response.status === 201 && typeof made?.token === "string") workspaceTokens.push(made.token);
    return { status: response.status, body: parsed };
  };
  return {
    url: server.url,
    token,
    dataDirectory,
    api,
    server,
    async close(closeOptions = {}) {
      for (const owner of [token, ...workspaceTokens]) {
        const { body } = await api("GET", "/sandboxes", undefined, { token: owner });
        for (const sandbox of body?.sandboxes ?? []) await api("DELETE", `/sandboxes/${sandbox.id}`, undefined, { token: owner });
      }
      await server.close();
      if (!closeOptions.keepData) temp?.remove();
    },
  };
}
