import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { Duplex } from "node:stream";
import WebSocket, { createWebSocketStream } from "ws";

export interface ReverseDialerOptions {
  /** `<public url>/agent-channel/<sandbox id>`, as ws: or wss:. */
  channelURL: string;
  /** The one-time token from the user-data, used until a channel secret was handed back for it. */
  tokenFile: string;
  /** Where the channel secret is kept across restarts of agentd and of the instance. */
  secretFile: string;
  log: (message: string) => void;
}

export interface ReverseDialer {
  /** Keeps one idle agent socket dialed in and hands each socket to `serve` (HTTP/2 runs over it). */
  start(serve: (duplex: Duplex) => void): void;
  /** A new socket to the control plane's model gateway, for one relayed connection. */
  connectGateway(): Duplex;
  close(): void;
}

const secretHeader = "x-ciab-channel-secret";
const maxMessageBytes = 1024 * 1024;
const handshakeTimeoutMs = 10_000;
const firstRetryMs = 250;
const maxRetryMs = 3_000;

/**
 * agentd's end of the reverse channel (docs/decisions/0019-ec2-reverse-channel.md): there is no inbound port, so agentd dials the
 * control plane. One agent socket is always waiting; when the control plane starts HTTP/2 on it (its first
 * message), the next one is dialed. A dropped idle socket, or a refused dial, is dialed again with backoff.
 */
export function createReverseDialer(options: ReverseDialerOptions): ReverseDialer {
  let secret = readCredential(options.secretFile);
  let retryMs = firstRetryMs;
  let lastFailure = "";
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const sockets = new Set<WebSocket>();

  const open = (kind: "agent" | "gateway", credential: string): WebSocket => {
    const webSocket = new WebSocket(`${options.channelURL}/${kind}`, {
      headers: { authorization: `Bearer ${credential}` },
      maxPayload: maxMessageBytes,
      handshakeTimeout: handshakeTimeoutMs,
      perMessageDeflate: false,
    });
    sockets.add(webSocket);
    webSocket.once("close", () => sockets.delete(webSocket));
    return webSocket;
  };

  const dialAgent = (serve: (duplex: Duplex) => void): void => {
    if (closed) return;
    const credential = secret ?? readCredential(options.tokenFile);
    if (credential === undefined) return options.log("reverse channel: no channel secret and no one-time token");
    const webSocket = open("agent", credential);
    let taken = false;
    webSocket.on("upgrade", (response) => {
      const issued = response.headers[secretHeader];
      if (typeof issued !== "string" || !/^ciabcs_[A-Za-z0-9_-]{16,128}$/.test(issued)) return;
      secret = issued;
      writeFile(options.secretFile, issued, { mode: 0o600 }).catch((error: Error) => options.log(`reverse channel: cannot keep the secret: ${error.message}`));
    });
    webSocket.on("error", (error) => {
      if (error.message !== lastFailure) options.log(`reverse channel: ${error.message}`);
      lastFailure = error.message;
    });
    webSocket.once("open", () => {
      retryMs = firstRetryMs;
      lastFailure = "";
      webSocket.once("message", () => {
        taken = true;
        dialAgent(serve);
      });
      serve(createWebSocketStream(webSocket));
    });
    webSocket.once("close", () => {
      if (taken || closed) return;
      timer = setTimeout(() => dialAgent(serve), retryMs);
      retryMs = Math.min(retryMs * 2, maxRetryMs);
    });
  };

  return {
    start: dialAgent,
    connectGateway() {
      if (secret === undefined) throw new Error("the reverse channel has no secret yet");
      const webSocket = open("gateway", secret);
      return createWebSocketStream(webSocket);
    },
    close() {
      closed = true;
      clearTimeout(timer);
      for (const webSocket of sockets) webSocket.terminate();
    },
  };
}

/** A credential file of ours, or undefined when it is missing; bounded like everything read in a sandbox. */
function readCredential(file: string): string | undefined {
  try {
    const text = readFileSync(file, "utf8").slice(0, 256).trim();
    return text === "" ? undefined : text;
  } catch {
    return undefined;
  }
}
