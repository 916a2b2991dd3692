import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable, type Duplex } from "node:stream";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createAgentServer, type AgentServer } from "../../packages/agentd/src/agent-server.js";
import { createReverseDialer, type ReverseDialer } from "../../packages/agentd/src/services/reverse-dialer.js";
import { createAgentClient, type AgentClient } from "../../packages/server/src/agent-channel/agent-client.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import { ReverseChannelHub } from "../../packages/server/src/runtimes/ec2/reverse-hub.js";
import { listenForChannels, type ChannelListener } from "../harness/reverse-channel-dial.js";

/**
 * Tunnels by CONNECT on the agent channel (the previews' fallback) over the reverse channel, without an
 * instance: agentd runs here and dials the hub over loopback WebSockets as it does from an instance. Known
 * bytes go both ways, written the way Node's HTTP client writes (a batch ending in an empty string).
 */
const sandboxID = "sbx_reverseconnect";
let directory: string;
let agentd: AgentServer;
let listener: ChannelListener;
let hub: ReverseChannelHub;
let dialer: ReverseDialer;
let client: AgentClient;
let echo: net.Server;
let web: http.Server;
/** What the echo server says before it echoes: bytes from the sandbox's side first. */
const greeting = randomBytes(70_000);

const portOf = (server: net.Server | http.Server) => (server.address() as net.AddressInfo).port;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), "ciab-reverse-connect-"));
  agentd = await createAgentServer({ workspaceRoot: directory, sandboxID });
  await agentd.listen(path.join(directory, "agentd.sock"));
  echo = net.createServer((socket) => {
    socket.write(greeting);
    socket.pipe(socket);
  });
  web = http.createServer((request, response) => request.pipe(response));
  for (const server of [echo, web]) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  listener = await listenForChannels({ node: "/nonexistent", agentd: "/nonexistent", toolsDirectory: "/nonexistent" });
  hub = new ReverseChannelHub({ publicURL: listener.publicURL, dataDirectory: directory, logger: createSilentLogger() });
  listener.use(hub);
  await writeFile(path.join(directory, "token"), hub.issueToken(sandboxID, 60_000));
  dialer = createReverseDialer({
    channelURL: hub.channelURL(sandboxID, "agent").slice(0, -"/agent".length),
    tokenFile: path.join(directory, "token"),
    secretFile: path.join(directory, "secret"),
    log: () => undefined,
  });
  dialer.start((duplex) => agentd.serveAgentConnection(duplex));
  client = createAgentClient({ connect: () => hub.take(sandboxID, 5_000), expectedSandboxID: sandboxID });
});

afterAll(async () => {
  client?.close();
  dialer?.close();
  hub?.close();
  await listener?.close();
  echo?.close();
  web?.close();
  await agentd?.close();
  await rm(directory, { recursive: true, force: true });
});

async function readAtLeast(tunnel: Duplex, received: Buffer[], bytes: number): Promise<Buffer> {
  const deadline = Date.now() + 5_000;
  while (Buffer.concat(received).length < bytes && Date.now() < deadline && !tunnel.destroyed) await new Promise((resolve) => setTimeout(resolve, 10));
  return Buffer.concat(received);
}

test("known bytes both ways through a CONNECT tunnel, batched writes ending in an empty string among them", async () => {
  for (let round = 0; round < 5; round++) {
    const tunnel = await client.connectPort(portOf(echo));
    const received: Buffer[] = [];
    tunnel.on("data", (chunk: Buffer) => received.push(chunk));
    const text = `round ${round}: ${randomBytes(24).toString("hex")}\r\n`;
    const bulk = randomBytes(200_000);
    tunnel.cork();
    tunnel.write(text);
    tunnel.write("", "latin1");
    tunnel.uncork();
    tunnel.write(bulk);
    const expected = Buffer.concat([greeting, Buffer.from(text), bulk]);
    const got = await readAtLeast(tunnel, received, expected.length);
    expect(got.length).toBe(expected.length);
    expect(got.equals(expected)).toBe(true);
    tunnel.destroy();
  }
});

test("Node's HTTP client through a CONNECT tunnel: the request arrives whole and its answer comes back", async () => {
  for (let round = 0; round < 5; round++) {
    const tunnel = await client.connectPort(portOf(web));
    const body = randomBytes(16).toString("hex");
    const answer = await new Promise<string>((resolve, reject) => {
      const request = http.request(
        { createConnection: () => tunnel as never, method: "POST", path: "/echo", headers: { host: "sandbox", "content-length": String(body.length) } },
        (response) => {
          let text = `${response.statusCode} `;
          response.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
          response.on("end", () => resolve(text));
        },
      );
      request.on("error", reject);
      request.end(body);
    });
    expect(answer).toBe(`200 ${body}`);
    tunnel.destroy();
  }
});

// One chunk of 3 MiB: the raw write splits it below the reverse channel's 1 MiB WebSocket message limit.
test("a sized upload goes over the reverse channel as a raw write and arrives whole", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 5);
  const entry = await client.writeFile("/workspace/uploaded.bin", { stream: Readable.from([data.subarray(0, 1_000), data.subarray(1_000)]), length: data.length });
  expect(entry).toMatchObject({ size: data.length });
  expect((await readFile(path.join(directory, "uploaded.bin"))).equals(data)).toBe(true);
});
