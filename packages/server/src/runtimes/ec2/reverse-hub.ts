import net from "node:net";
import path from "node:path";
import type { Duplex } from "node:stream";
import { createWebSocketStream, type WebSocket } from "ws";
import { CiabError } from "@ciab/protocol";
import type { Logger } from "../../logger.js";
import { gatewaySocketName, sandboxPaths } from "../local/machine-layout.js";
import { channelSecretPrefix, credentialHash, newChannelSecret, newOneTimeToken, oneTimeTokenPrefix, sameHash } from "./reverse-credentials.js";

export interface ReverseChannelHubOptions {
  /** `[server] public_url`: where agentd dials. */
  publicURL: string;
  /** The control plane's data dir, whose sandbox run dirs hold the model gateway sockets. */
  dataDirectory: string;
  logger: Logger;
  now?: () => number;
}

export type ReverseChannelKind = "agent" | "gateway";

/** Agent sockets waiting to be taken plus those carrying an HTTP/2 session, per sandbox. */
const maxAgentSocketsPerSandbox = 16;
/** Model calls in flight at once, per sandbox. */
const maxGatewaySocketsPerSandbox = 64;
/** A socket that has not answered a ping by the next one is gone (a dropped NAT entry, a frozen instance). */
const pingIntervalMs = 20_000;
/** A sandbox that dials in a loop gets one warning per reason this often, not one per dial. */
const refusalLogIntervalMs = 60_000;

/**
 * An agent socket not taken yet, already wrapped as a stream: agentd's HTTP/2 server writes its SETTINGS at
 * once, and a socket without a reader would drop them. The stream buffers up to its high-water mark and then
 * pauses the socket, so an idle socket holds a few KiB at most.
 */
interface IdleSocket {
  webSocket: WebSocket;
  duplex: Duplex;
}

interface TokenRecord {
  sandboxID: string;
  expiresAt: number;
  used: boolean;
}

/**
 * The control plane's end of the reverse channel (docs/decisions/0019-ec2-reverse-channel.md): agentd dials in over WebSocket and
 * keeps one idle agent socket open; `take` hands it to an HTTP/2 client, and agentd dials the next one as soon
 * as the taken one carries its first bytes. Model gateway connections arrive as sockets of their own and are
 * piped to the sandbox's gateway socket. Every socket is authenticated by a credential bound to one sandbox:
 * the one-time token of the user-data (exchanged once for a channel secret) or that secret.
 */
export class ReverseChannelHub {
  readonly #tokens = new Map<string, TokenRecord>();
  readonly #secretHashes = new Map<string, string>();
  readonly #idle = new Map<string, IdleSocket[]>();
  readonly #agentCounts = new Map<string, number>();
  readonly #gatewayCounts = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #alive = new WeakMap<WebSocket, boolean>();
  readonly #sockets = new Set<WebSocket>();
  readonly #refusalsLogged = new Map<string, number>();
  readonly #pinger: NodeJS.Timeout;
  readonly #now: () => number;

  constructor(private readonly options: ReverseChannelHubOptions) {
    this.#now = options.now ?? Date.now;
    this.#pinger = setInterval(() => this.#ping(), pingIntervalMs);
    this.#pinger.unref();
  }

  /** The URL agentd dials for a socket of `kind`. */
  channelURL(sandboxID: string, kind: ReverseChannelKind): string {
    const base = new URL(this.options.publicURL);
    base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    base.pathname = `${base.pathname.replace(/\/$/, "")}/agent-channel/${encodeURIComponent(sandboxID)}/${kind}`;
    return base.toString();
  }

  /** A token good for one connection of `sandboxID`'s agentd within `ttlMs`; only its hash is kept. */
  issueToken(sandboxID: string, ttlMs: number): string {
    const token = newOneTimeToken();
    this.#tokens.set(credentialHash(token), { sandboxID, expiresAt: this.#now() + ttlMs, used: false });
    return token;
  }

  /** Restores the channel secret's hash of a machine from its details (after a control-plane restart). */
  expect(sandboxID: string, secretHash: string): void {
    if (!this.#secretHashes.has(sandboxID)) this.#secretHashes.set(sandboxID, secretHash);
  }

  secretHashOf(sandboxID: string): string | undefined {
    return this.#secretHashes.get(sandboxID);
  }

  /**
   * Checks the credential a dial-in for `sandboxID` presents. With the one-time token it returns the channel
   * secret to hand back (and keeps only its hash); a replayed, expired or foreign token is refused.
   */
  authenticate(sandboxID: string, credential: string | undefined): { issuedSecret?: string } {
    const refuse = (reason: string, message: string): never => {
      this.#logRefusal(sandboxID, reason, message);
      throw new CiabError("unauthorized", message, { context: { reason } });
    };
    if (credential === undefined) return refuse("missing", "no channel credential");
    const hash = credentialHash(credential);
    if (credential.startsWith(oneTimeTokenPrefix)) {
      const record = this.#tokens.get(hash);
      if (record === undefined) return refuse("unknown_token", "unknown one-time token");
      if (record.sandboxID !== sandboxID) return refuse("other_sandbox", `the one-time token of another sandbox was used for ${sandboxID}`);
      if (record.used) return refuse("replayed", "the one-time token was already used");
      if (record.expiresAt <= this.#now()) return refuse("expired", "the one-time token expired");
      record.used = true;
      const secret = newChannelSecret();
      this.#secretHashes.set(sandboxID, credentialHash(secret));
      return { issuedSecret: secret };
    }
    const expected = this.#secretHashes.get(sandboxID);
    if (expected === undefined && credential.startsWith(channelSecretPrefix)) {
      // What agentd meets after a control-plane restart until its machine is next used: it dials again in 3 s.
      throw new CiabError("unauthorized", `sandbox ${sandboxID} is not expected yet`, { context: { reason: "unknown_sandbox" } });
    }
    if (!credential.startsWith(channelSecretPrefix) || expected === undefined || !sameHash(expected, hash)) {
      return refuse("bad_secret", `no channel secret of ${sandboxID} matches`);
    }
    return {};
  }

  /** An authenticated agent socket joins the sandbox's idle ones. */
  adoptAgent(sandboxID: string, webSocket: WebSocket): void {
    const count = this.#agentCounts.get(sandboxID) ?? 0;
    if (count >= maxAgentSocketsPerSandbox) return webSocket.close(1013, "too many agent sockets");
    this.#agentCounts.set(sandboxID, count + 1);
    this.#track(webSocket);
    const idle = this.#idle.get(sandboxID) ?? [];
    this.#idle.set(sandboxID, idle);
    const entry = { webSocket, duplex: createWebSocketStream(webSocket) };
    // The socket's errors are logged by #track; whoever takes the stream sees it end.
    entry.duplex.on("error", () => undefined);
    idle.push(entry);
    webSocket.once("close", () => {
      this.#agentCounts.set(sandboxID, (this.#agentCounts.get(sandboxID) ?? 1) - 1);
      const index = idle.indexOf(entry);
      if (index >= 0) idle.splice(index, 1);
    });
    for (const wake of this.#waiters.get(sandboxID) ?? []) wake();
  }

  /** An authenticated gateway socket is piped to the sandbox's model gateway socket, byte for byte. */
  adoptGateway(sandboxID: string, webSocket: WebSocket): void {
    const count = this.#gatewayCounts.get(sandboxID) ?? 0;
    if (count >= maxGatewaySocketsPerSandbox) return webSocket.close(1013, "too many gateway connections");
    this.#gatewayCounts.set(sandboxID, count + 1);
    this.#track(webSocket);
    const stream = createWebSocketStream(webSocket);
    const socketPath = path.join(sandboxPaths(this.options.dataDirectory, sandboxID).run, gatewaySocketName);
    const upstream = net.connect({ path: socketPath });
    const cut = (): void => {
      stream.destroy();
      upstream.destroy();
    };
    stream.on("error", cut);
    upstream.on("error", cut);
    webSocket.once("close", () => {
      this.#gatewayCounts.set(sandboxID, (this.#gatewayCounts.get(sandboxID) ?? 1) - 1);
      upstream.destroy();
    });
    stream.pipe(upstream);
    upstream.pipe(stream);
  }

  /** An idle agent socket of the sandbox as a duplex, waiting up to `waitMs` for agentd to dial one. */
  async take(sandboxID: string, waitMs: number): Promise<Duplex> {
    const deadline = this.#now() + waitMs;
    for (;;) {
      const entry = this.#idle.get(sandboxID)?.shift();
      if (entry !== undefined && entry.webSocket.readyState === entry.webSocket.OPEN) return entry.duplex;
      if (entry !== undefined) continue;
      const left = deadline - this.#now();
      if (left <= 0) {
        throw new CiabError("agent_unreachable", `agentd of ${sandboxID} has not dialed in over the reverse channel`, { retryable: true });
      }
      await this.#nextAdoption(sandboxID, left);
    }
  }

  /** Closes the sandbox's idle agent sockets (a stopped machine's); agentd dials again when it runs. */
  disconnect(sandboxID: string): void {
    for (const { webSocket } of this.#idle.get(sandboxID) ?? []) webSocket.close(1001, "machine stopping");
  }

  /** Forgets the sandbox's credentials and closes its sockets. */
  forget(sandboxID: string): void {
    for (const [hash, record] of this.#tokens) if (record.sandboxID === sandboxID) this.#tokens.delete(hash);
    this.#secretHashes.delete(sandboxID);
    for (const { webSocket } of this.#idle.get(sandboxID) ?? []) webSocket.close(1001, "sandbox gone");
    this.#idle.delete(sandboxID);
  }

  close(): void {
    clearInterval(this.#pinger);
    for (const webSocket of this.#sockets) webSocket.terminate();
  }

  #logRefusal(sandboxID: string, reason: string, message: string): void {
    const key = `${sandboxID} ${reason}`;
    const last = this.#refusalsLogged.get(key);
    if (last !== undefined && this.#now() - last < refusalLogIntervalMs) return;
    if (this.#refusalsLogged.size >= 10_000) this.#refusalsLogged.clear();
    this.#refusalsLogged.set(key, this.#now());
    this.options.logger.warn({ sandboxID, reason }, `reverse channel refused: ${message}`);
  }

  #track(webSocket: WebSocket): void {
    this.#sockets.add(webSocket);
    this.#alive.set(webSocket, true);
    webSocket.on("pong", () => this.#alive.set(webSocket, true));
    // Protocol errors (an oversized message) close the socket; unhandled, they would end the process.
    webSocket.on("error", (error) => this.options.logger.debug({ err: error }, "reverse channel socket error"));
    webSocket.once("close", () => this.#sockets.delete(webSocket));
  }

  #ping(): void {
    for (const webSocket of this.#sockets) {
      if (!this.#alive.get(webSocket)) {
        webSocket.terminate();
        continue;
      }
      this.#alive.set(webSocket, false);
      webSocket.ping();
    }
  }

  #nextAdoption(sandboxID: string, waitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(sandboxID) ?? new Set();
      this.#waiters.set(sandboxID, waiters);
      const wake = (): void => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.#waiters.get(sandboxID) === waiters) this.#waiters.delete(sandboxID);
        resolve();
      };
      const timer = setTimeout(wake, waitMs);
      waiters.add(wake);
    });
  }
}
