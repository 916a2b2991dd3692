import net from "node:net";
import type { Duplex } from "node:stream";
import { Client, type ConnectConfig } from "ssh2";
import { CiabError } from "@ciab/protocol";
import { agentSocketAddress } from "../local/agent-socket.js";

export interface SSHEndpoint {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /** The server's public key blob (base64); any key is accepted when undefined. */
  hostKey?: string | undefined;
}

export interface SSHConnectionOptions {
  target: SSHEndpoint;
  /** Reached first; the target is then dialled from it (`direct-tcpip`), as a jump host does. */
  bastion: SSHEndpoint | undefined;
  /**
   * Serves `remote` (a unix socket path on the target) with a remote forward to `local` on this host:
   * the model gateway relay of docs/decisions/0006.
   */
  reverseSocket?: { remote: string; local: string } | undefined;
  timeoutMs: number;
  signal: AbortSignal;
  /** Told when the reverse socket cannot be served; the agent channel works without it. */
  onWarning?: (message: string, error: unknown) => void;
}

/**
 * One SSH connection to an instance, through the bastion when there is one; each `openStream` is a new
 * `direct-streamlocal` channel on it. `closed` settles when either hop drops.
 */
export class SSHConnection {
  readonly closed: Promise<void>;
  #clients: Client[];
  #gone = false;

  readonly #reverseSocket: { remote: string; local: string } | undefined;
  readonly #onWarning: SSHConnectionOptions["onWarning"];
  #reverseServed = false;
  #reverseAttempt: Promise<void> | undefined;

  private constructor(clients: Client[], options: SSHConnectionOptions) {
    this.#clients = clients;
    this.#reverseSocket = options.reverseSocket;
    this.#onWarning = options.onWarning;
    this.closed = new Promise((resolve) => {
      for (const client of clients) client.once("close", () => resolve());
    });
    void this.closed.then(() => {
      this.#gone = true;
      this.close();
    });
  }

  get isOpen(): boolean {
    return !this.#gone;
  }

  static async open(options: SSHConnectionOptions): Promise<SSHConnection> {
    const clients: Client[] = [];
    const onAbort = (): void => clients.forEach((client) => client.end());
    options.signal.addEventListener("abort", onAbort, { once: true });
    try {
      let sock: Duplex | undefined;
      if (options.bastion) {
        const bastion = await connectClient(options.bastion, undefined, options.timeoutMs, clients);
        sock = await new Promise<Duplex>((resolve, reject) =>
          bastion.forwardOut("127.0.0.1", 0, options.target.host, options.target.port, (error, stream) =>
            error ? reject(error) : resolve(stream),
          ),
        );
      }
      options.signal.throwIfAborted();
      const client = await connectClient(options.target, sock, options.timeoutMs, clients);
      const connection = new SSHConnection(clients, options);
      await connection.#serveReverseSocket(client);
      return connection;
    } catch (error) {
      for (const client of clients) client.end();
      if (options.signal.aborted) throw options.signal.reason;
      throw new CiabError("agent_unreachable", `ssh to ${describe(options)}: ${(error as Error).message}`, {
        cause: error,
        retryable: true,
      });
    } finally {
      options.signal.removeEventListener("abort", onAbort);
    }
  }

  /** A new channel to the unix socket at `socketPath` on the target. */
  async openStream(socketPath: string): Promise<Duplex> {
    const client = this.#clients[this.#clients.length - 1]!;
    await this.#serveReverseSocket(client);
    return new Promise((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(socketPath, (error, stream) => {
        if (error) {
          reject(
            new CiabError("agent_unreachable", `agentd is not listening on ${socketPath}: ${error.message}`, {
              cause: error,
              retryable: true,
            }),
          );
        } else {
          resolve(stream);
        }
      });
    });
  }

  /**
   * Asks sshd for the remote forward until it succeeds once: on a booting instance the first connection can
   * come before the user-data made the socket's directory.
   */
  async #serveReverseSocket(client: Client): Promise<void> {
    const socket = this.#reverseSocket;
    if (socket === undefined || this.#reverseServed) return;
    this.#reverseAttempt ??= serveReverseSocket(client, socket)
      .then(
        () => void (this.#reverseServed = true),
        (error: unknown) => this.#onWarning?.(`cannot serve ${socket.remote} on the instance (will retry)`, error),
      )
      .finally(() => (this.#reverseAttempt = undefined));
    await this.#reverseAttempt;
  }

  close(): void {
    for (const client of [...this.#clients].reverse()) client.end();
  }
}

function connectClient(endpoint: SSHEndpoint, sock: Duplex | undefined, timeoutMs: number, clients: Client[]): Promise<Client> {
  const client = new Client();
  clients.push(client);
  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.user,
    privateKey: endpoint.privateKey,
    readyTimeout: timeoutMs,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    ...(sock !== undefined && { sock }),
    ...(endpoint.hostKey !== undefined && {
      algorithms: { serverHostKey: ["ssh-ed25519"] },
      hostVerifier: (key: Buffer) => key.toString("base64") === endpoint.hostKey,
    }),
  };
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    client.once("error", onError);
    client.once("close", () => reject(new Error("connection closed during the handshake")));
    client.once("ready", () => {
      client.off("error", onError);
      // Each agent call is a few small HTTP/2 frames: Nagle's algorithm would hold each one for an ACK.
      client.setNoDelay(true);
      // A drop after the handshake is reported through `close`; an error event must not go unhandled.
      client.on("error", () => undefined);
      resolve(client);
    });
    client.connect(config);
  });
}

const forwardedClients = new WeakSet<Client>();

async function serveReverseSocket(client: Client, socket: { remote: string; local: string }): Promise<void> {
  const localAddress = await agentSocketAddress(socket.local);
  if (!forwardedClients.has(client)) {
    forwardedClients.add(client);
    client.on("unix connection", (info, accept) => {
      if (info.socketPath !== socket.remote) return;
      const channel = accept();
      const upstream = net.connect({ path: localAddress, allowHalfOpen: true });
      const cut = (): void => {
        channel.destroy();
        upstream.destroy();
      };
      channel.on("error", cut);
      upstream.on("error", cut);
      channel.pipe(upstream);
      upstream.pipe(channel);
    });
  }
  await new Promise<void>((resolve, reject) =>
    client.openssh_forwardInStreamLocal(socket.remote, (error) => (error ? reject(error) : resolve())),
  );
}

function describe(options: SSHConnectionOptions): string {
  const target = `${options.target.user}@${options.target.host}:${options.target.port}`;
  return options.bastion ? `${target} via ${options.bastion.host}:${options.bastion.port}` : target;
}
