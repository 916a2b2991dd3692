import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import http2 from "node:http2";
import net from "node:net";
import path from "node:path";
import { agentdBundlePath } from "../../packages/agentd/scripts/bundle.mjs";
import type { AgentHealth } from "../../packages/protocol/src/index.js";
import type { GatewaySecrets, GatewaySessions, GatewayUsage } from "../../packages/server/src/gateway/gateway.js";
import { gatewayAPIs, type GatewayAPI } from "../../packages/server/src/gateway/gateway-config.js";

/** In-memory sessions: token → session of a sandbox (speaking every API unless `apis` says); records usage. */
export function fakeSessions(tokens: Record<string, { sessionID: string; workspaceID: string; sandboxID: string; apis?: GatewayAPI[] }>) {
  const cutOff = new Set<string>();
  const usage: Array<{ sessionID: string; usage: GatewayUsage }> = [];
  const sessions: GatewaySessions = {
    async resolve(sandboxID, token) {
      const found = tokens[token];
      if (!found || found.sandboxID !== sandboxID) return undefined;
      return { sessionID: found.sessionID, workspaceID: found.workspaceID, apis: found.apis ?? gatewayAPIs };
    },
    isCutOff: (sessionID) => cutOff.has(sessionID),
    recordUsage: (sessionID, recorded) => void usage.push({ sessionID, usage: recorded }),
  };
  return { sessions, cutOff, usage };
}

export function fakeSecrets(values: Record<string, Record<string, string>>): GatewaySecrets {
  return { get: async (workspaceID, name) => values[workspaceID]?.[name] };
}

export interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over a unix socket or a TCP port; answers the whole body. */
export function request(
  target: { socketPath: string } | { port: number },
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { ...target, ...("port" in target && { host: "127.0.0.1" }), method: options.method ?? "POST", path: options.path, headers: options.headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.once("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString() }));
        response.once("error", reject);
      },
    );
    outgoing.once("error", reject);
    outgoing.end(options.body);
  });
}

/** Starts a request and hands back the response as soon as its headers arrive. */
export function openStream(
  target: { socketPath: string } | { port: number },
  options: { path: string; headers?: Record<string, string>; body?: string },
): Promise<{ response: IncomingMessage; abort(): void }> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { ...target, ...("port" in target && { host: "127.0.0.1" }), method: "POST", path: options.path, headers: options.headers, agent: false },
      (response) => resolve({ response, abort: () => outgoing.destroy() }),
    );
    outgoing.once("error", reject);
    outgoing.end(options.body);
  });
}

/** agentd (the bundle) with a gateway socket; its health says which loopback port relays to it. */
export async function startAgentdWithGateway(directory: string, gatewaySocket: string): Promise<{ gatewayPort: number; stop(): Promise<void> }> {
  const socketPath = path.join(directory, "agentd.sock");
  const workspaceRoot = path.join(directory, "ws");
  await mkdir(workspaceRoot, { recursive: true });
  const child = spawn(
    process.execPath,
    [agentdBundlePath, "--socket", socketPath, "--workspace-root", workspaceRoot, "--gateway-socket", gatewaySocket],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready\n")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`agentd exited with ${code} before ready: ${output}`)));
  });
  const health = await agentHealth(socketPath);
  if (health.gatewayPort === undefined) throw new Error("agentd reported no gatewayPort");
  return { gatewayPort: health.gatewayPort, stop: () => terminate(child) };
}

async function agentHealth(socketPath: string): Promise<AgentHealth> {
  const session = http2.connect("http://agentd", { createConnection: () => net.connect(socketPath) });
  try {
    const stream = session.request({ ":path": "/v1/health" });
    let body = "";
    for await (const chunk of stream) body += String(chunk);
    return JSON.parse(body) as AgentHealth;
  } finally {
    session.close();
  }
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
