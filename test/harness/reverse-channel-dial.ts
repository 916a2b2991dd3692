import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import WebSocket from "ws";
import { machineDownloadRoutes } from "../../packages/server/src/api/machine-downloads.js";
import { MachineConfigOffers, machineDownloadSource } from "../../packages/server/src/services/machine-config-offers.js";
import { createMachineDownloadSigner } from "../../packages/server/src/services/machine-download-signer.js";
import { createToolsArchiver } from "../../packages/server/src/services/tools-archive.js";
import type { MachineDownloadSource } from "../../packages/server/src/runtimes/runtime.js";
import { createAgentChannelServer, type AgentChannelServer } from "../../packages/server/src/api/agent-channel.js";
import { createSilentLogger } from "../../packages/server/src/logger.js";
import { toErrorResponse } from "../../packages/server/src/api/error-handler.js";
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
  /** Signed URLs of node, agentd and the tools on this server, for instances of a plain AMI, and config offers. */
  machineDownloads: MachineDownloadSource;
  /** Each request's path and status, in order. */
  served: { path: string; status: number }[];
  /** Serves dial-ins with this hub from now on (a restarted control plane on the same address). */
  use(hub: ReverseChannelHub): void;
  close(): Promise<void>;
}

/**
 * An HTTP server on loopback that serves what an instance reaches of the control plane: the machine downloads
 * (so that agentd is the bundle of this checkout, whatever AMI image another run tagged) and the agent channel.
 */
export async function listenForChannels(files: { node: string; agentd: string; toolsDirectory: string }): Promise<ChannelListener> {
  let channels: AgentChannelServer | undefined;
  let routes: ReturnType<typeof machineDownloadRoutes> | undefined;
  const served: ChannelListener["served"] = [];
  const server = createAdaptorServer({
    fetch: async (request) => {
      const answer = await routes!.fetch(request);
      served.push({ path: new URL(request.url).pathname, status: answer.status });
      return answer;
    },
  }) as Server;
  server.on("upgrade", (request, socket, head) => {
    if (channels) channels.handleUpgrade(request, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const publicURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signer = createMachineDownloadSigner({ publicURL, key: randomBytes(32) });
  const configs = new MachineConfigOffers(signer);
  routes = machineDownloadRoutes({
    signer,
    files: { node: files.node, agentd: files.agentd },
    toolsArchive: createToolsArchiver(files.toolsDirectory, `${files.toolsDirectory}.cache`),
    configs,
  });
  routes.onError((error, c) => toErrorResponse(error, c, createSilentLogger()));
  return {
    publicURL,
    machineDownloads: machineDownloadSource(signer, configs),
    served,
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
