import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createAgentServer, type AgentServer } from "../../../agentd/src/agent-server.js";
import { connectUnixSocket } from "../../../agentd/src/testing/start-agentd.js";
import { createAgentClient, type AgentClient } from "./agent-client.js";
import { openRawTunnel } from "./raw-tunnel.js";
import { PreviewUpstreamPool } from "../api/preview-upstream-pool.js";
import http from "node:http";

let directory: string;
let agentd: AgentServer;
let client: AgentClient;
let echo: net.Server;
let echoPort: number;
let web: http.Server;
let webPort: number;
const webConnections: number[] = [];
let closedPort: number;
const connect = () => connectUnixSocket(path.join(directory, "a.sock"));

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "ciab-tunnel-"));
  agentd = await createAgentServer({ workspaceRoot: directory, sandboxID: "sbx_tunnel" });
  await agentd.listen(path.join(directory, "a.sock"));
  client = createAgentClient({ connect, expectedSandboxID: "sbx_tunnel" });
  echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
  web = http.createServer((request, response) => response.end(`hello ${request.url}`));
  web.on("connection", () => webConnections.push(Date.now()));
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  webPort = (web.address() as net.AddressInfo).port;
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  client.close();
  await agentd.close();
  echo.close();
  web.close();
  await rm(directory, { recursive: true, force: true });
});

async function roundTrip(tunnel: Duplex, text: string): Promise<string> {
  tunnel.resume();
  const answer = new Promise<string>((resolve) => tunnel.once("data", (chunk: Buffer) => resolve(chunk.toString())));
  tunnel.write(text);
  const result = await answer;
  tunnel.destroy();
  return result;
}

test("CONNECT on the agent channel tunnels to a loopback port; a closed port is preview_unreachable", async () => {
  expect(await roundTrip(await client.connectPort(echoPort), "over http/2")).toBe("over http/2");
  await expect(client.connectPort(closedPort)).rejects.toMatchObject({ code: "preview_unreachable" });
  // The channel still serves other requests after a refused tunnel.
  expect((await client.health()).sandboxID).toBe("sbx_tunnel");
});

test("a raw tunnel on a connection of its own checks the sandbox and reaches the port", async () => {
  expect(await roundTrip(await openRawTunnel(connect, "sbx_tunnel", echoPort), "raw bytes")).toBe("raw bytes");
  await expect(openRawTunnel(connect, "sbx_other", echoPort)).rejects.toMatchObject({ code: "agent_unreachable" });
  await expect(openRawTunnel(connect, "sbx_tunnel", closedPort)).rejects.toMatchObject({ code: "preview_unreachable" });
});

async function getThrough(agent: http.Agent, route: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get({ agent, path: route, headers: { connection: "keep-alive", host: "localhost" } }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.once("end", () => resolve(body));
    });
    request.once("socket", (socket) => socket.resume());
    request.once("error", reject);
  });
}

test("the upstream pool keeps raw tunnels alive and serves over one-shot CONNECT streams too", async () => {
  const pool = new PreviewUpstreamPool(4);
  try {
    const raw = pool.agentFor("sbx_tunnel", webPort, () => openRawTunnel(connect, "sbx_tunnel", webPort));
    webConnections.length = 0;
    expect(await getThrough(raw, "/a")).toBe("hello /a");
    expect(await getThrough(raw, "/b")).toBe("hello /b");
    expect(webConnections.length).toBe(1);

    const overChannel = pool.agentFor("sbx_fallback", webPort, () => client.connectPort(webPort));
    webConnections.length = 0;
    expect(await getThrough(overChannel, "/c")).toBe("hello /c");
    expect(await getThrough(overChannel, "/d")).toBe("hello /d");
    expect(webConnections.length).toBe(2);
  } finally {
    pool.close();
  }
});

test("a raw tunnel carries a bulk answer whole to a slow reader, then the server's end", async () => {
  const size = 24 * 1024 * 1024;
  const bulk = net.createServer((socket) => {
    socket.once("data", () => {
      const pattern = Buffer.alloc(1024 * 1024);
      for (let index = 0; index < pattern.length; index += 1) pattern[index] = index % 251;
      for (let written = 0; written < size; written += pattern.length) socket.write(pattern);
      socket.end();
    });
  });
  await new Promise<void>((resolve) => bulk.listen(0, "127.0.0.1", resolve));
  try {
    const tunnel = await openRawTunnel(connect, "sbx_tunnel", (bulk.address() as net.AddressInfo).port);
    tunnel.write("go");
    let received = 0;
    let intact = true;
    // Paused for a while after each chunk, so agentd has to stop reading and start again.
    tunnel.on("data", (chunk: Buffer) => {
      for (let index = 0; index < chunk.length; index += 4099) if (chunk[index] !== ((received + index) % (1024 * 1024)) % 251) intact = false;
      received += chunk.length;
      tunnel.pause();
      setTimeout(() => tunnel.resume(), received < 2 * 1024 * 1024 ? 20 : 0);
    });
    tunnel.resume();
    await new Promise((resolve) => tunnel.once("end", resolve));
    tunnel.destroy();
    expect(received).toBe(size);
    expect(intact).toBe(true);
  } finally {
    bulk.close();
  }
});
