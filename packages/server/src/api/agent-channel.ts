import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { z } from "zod";
import { CiabError } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import { channelSecretHeader } from "../runtimes/ec2/reverse-credentials.js";
import type { ReverseChannelHub } from "../runtimes/ec2/reverse-hub.js";

/**
 * `GET /agent-channel/{sandbox id}/{agent|gateway}` with `Upgrade: websocket` and `Authorization: Bearer
 * <one-time token | channel secret>`: where agentd of an ec2 sandbox with `channel = "reverse"` dials in
 * (docs/decisions/0019-ec2-reverse-channel.md). Outside /api/v1: no API token opens it, only the sandbox's own credentials. A
 * refusal is an HTTP answer with the API's error body, before any upgrade.
 */
export const agentChannelPathPrefix = "/agent-channel/";

const channelPath = z.object({
  sandboxID: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  kind: z.enum(["agent", "gateway"]),
});

/** One message carries at most an HTTP/2 write or a socket read of the relay; nothing near this. */
const maxMessageBytes = 1024 * 1024;
/** The credential header, bounded before it is hashed. */
const maxCredentialLength = 256;

export interface AgentChannelServer {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

export function createAgentChannelServer(hub: ReverseChannelHub, logger: Logger): AgentChannelServer {
  const webSockets = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, perMessageDeflate: false });
  const issuedSecrets = new WeakMap<IncomingMessage, string>();
  webSockets.on("headers", (headers, request) => {
    const secret = issuedSecrets.get(request);
    if (secret !== undefined) headers.push(`${channelSecretHeader}: ${secret}`);
  });

  function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? "/", "http://localhost");
    const [sandboxID, kind, ...rest] = url.pathname.slice(agentChannelPathPrefix.length).split("/");
    const parsed = channelPath.safeParse({ sandboxID, kind });
    if (!url.pathname.startsWith(agentChannelPathPrefix) || rest.length > 0 || !parsed.success) {
      throw new CiabError("not_found", "agent channel paths are /agent-channel/{sandbox id}/{agent|gateway}");
    }
    const authorization = request.headers.authorization ?? "";
    const credential = authorization.startsWith("Bearer ") && authorization.length <= maxCredentialLength ? authorization.slice(7) : undefined;
    const { issuedSecret } = hub.authenticate(parsed.data.sandboxID, credential);
    if (issuedSecret !== undefined) issuedSecrets.set(request, issuedSecret);
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      if (parsed.data.kind === "agent") hub.adoptAgent(parsed.data.sandboxID, webSocket);
      else hub.adoptGateway(parsed.data.sandboxID, webSocket);
    });
  }

  return {
    handleUpgrade(request, socket, head) {
      socket.on("error", () => undefined);
      try {
        upgrade(request, socket, head);
      } catch (error) {
        const ciabError = error instanceof CiabError ? error : new CiabError("internal", String(error), { cause: error });
        if (ciabError.status >= 500) logger.warn({ err: error }, "agent channel upgrade failed");
        refuse(socket, ciabError);
      }
    },
    close() {
      for (const client of webSockets.clients) client.terminate();
    },
  };
}

function refuse(socket: Duplex, ciabError: CiabError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(ciabError.toBody());
  socket.end(
    `HTTP/1.1 ${ciabError.status} ${ciabError.code}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
