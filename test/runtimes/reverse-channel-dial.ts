import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import WebSocket from "ws";
import { machineDownloadRoutes } from "../../packages/server/src/api/machine-downloads.js";
import { createMachineDownloadSigner } from "../../packages/server/src/services/machine-download-signer.js";
import type { MachineDownloads } from "../../packages/server/src/runtimes/runtime.js";
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
  /** Signed URLs of node and agentd on this server, for instances of a plain AMI. */
  machineDownloads: (sandboxID: string) => MachineDownloads;
  /** Serves dial-ins with this hub from now on (a restarted control plane on the same address). */
  use(hub: ReverseChannelHub): void;
  close(): Promise<void>;
}

/**
 * An HTTP server on loopback that serves what an instance reaches of the control plane: the machine downloads
 * (so that agentd is the bundle of this checkout, whatever AMI image another run tagged) and the agent channel.
 */
export async function listenForChannels(files: { node: string; agentd: string }): Promise<ChannelListener> {
  let channels: AgentChannelServer | undefined;
  let routes: ReturnType<typeof machineDownloadRoutes> | undefined;
  const server = createAdaptorServer({ fetch: (request) => routes!.fetch(request) }) as Server;
  server.on("upgrade", (request, socket, head) => {
    if (channels) channels.handleUpgrade(request, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const publicURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signer = createMachineDownloadSigner({ publicURL, key: randomBytes(32) });
  routes = machineDownloadRoutes({ signer, files });
  return {
    publicURL,
    machineDownloads: (sandboxID) => signer.urls(sandboxID),
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
