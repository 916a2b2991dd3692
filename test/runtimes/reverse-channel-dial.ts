import http from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket from "ws";
import { createAgentChannelServer, type AgentChannelServer } from "../../packages/server/src/api/agent-channel.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import type { ReverseChannelHub } from "../../packages/server/src/runtimes/ec2/reverse-hub.js";

export interface DialAnswer {
  status: number;
  /** The error body of a refusal. */
  body?: { error: { code: string; message: string; context?: { reason?: string } } };
  /** The channel secret a 101 handed back. */
  secret?: string;
}

/** One dial-in as agentd makes it; a 101 is closed at once. */
export function dialChannel(url: string, credential: string): Promise<DialAnswer> {
  return new Promise((resolve, reject) => {
    const webSocket = new WebSocket(url, { headers: { authorization: `Bearer ${credential}` }, handshakeTimeout: 5_000 });
    webSocket.on("upgrade", (response) => {
      const secret = response.headers["x-ciab-channel-secret"];
      resolve({ status: 101, ...(typeof secret === "string" && { secret }) });
    });
    webSocket.on("open", () => webSocket.close());
    webSocket.on("unexpected-response", (request, response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as DialAnswer["body"] });
        request.destroy();
      });
    });
    webSocket.on("error", reject);
  });
}

export interface ChannelListener {
  publicURL: string;
  /** Serves dial-ins with this hub from now on (a restarted control plane on the same address). */
  use(hub: ReverseChannelHub): void;
  close(): Promise<void>;
}

/** A plain HTTP server on loopback that serves only the agent channel's upgrades, as the control plane does. */
export async function listenForChannels(): Promise<ChannelListener> {
  let channels: AgentChannelServer | undefined;
  const server = http.createServer((_request, response) => response.writeHead(404).end());
  server.on("upgrade", (request, socket, head) => {
    if (channels) channels.handleUpgrade(request, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    publicURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    use(hub) {
      channels?.close();
      channels = createAgentChannelServer(hub, createSilentLogger());
    },
    async close() {
      channels?.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
