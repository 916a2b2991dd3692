import net from "node:net";
import type { Duplex } from "node:stream";

export interface GatewayRelayOptions {
  /** The control plane's model gateway socket (`/run/ciab/gateway.sock` inside a machine). */
  socketPath: string;
  /** Opens the upstream instead of `socketPath` (the reverse channel's gateway sockets). */
  connect?: () => Duplex;
  /** Loopback TCP port to listen on; 0 picks a free one. */
  port: number;
  log?: (message: string) => void;
}

export interface GatewayRelay {
  /** The loopback port agents reach the gateway on (`http://127.0.0.1:<port>`). */
  readonly port: number;
  /** Stops listening and cuts every relayed connection. */
  close(): Promise<void>;
}

/**
 * Relays every TCP connection on 127.0.0.1 byte for byte to the gateway's unix socket. No HTTP parsing:
 * streaming, keep-alive and pipelining pass through untouched, and agents in a sandbox without a network
 * (loopback only) still reach the model gateway. A half-close on either side is passed on, so a client
 * that ends its request body still reads the whole answer.
 */
export async function startGatewayRelay(options: GatewayRelayOptions): Promise<GatewayRelay> {
  const log = options.log ?? (() => undefined);
  const connections = new Set<Duplex>();
  const connect = options.connect ?? (() => net.connect({ path: options.socketPath, allowHalfOpen: true }));

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    let upstream: Duplex;
    try {
      upstream = connect();
    } catch (error) {
      log(`gateway relay: ${(error as Error).message}`);
      client.destroy();
      return;
    }
    connections.add(client);
    connections.add(upstream);
    let reported = false;
    const cut = (error?: Error): void => {
      // A missing or refused socket answers the TCP client by closing; one line, not one per retry storm.
      if (error && !reported && (error as NodeJS.ErrnoException).syscall === "connect") {
        reported = true;
        log(`gateway relay: cannot reach ${options.socketPath}: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
      }
      client.destroy();
      upstream.destroy();
    };
    client.on("error", cut);
    upstream.on("error", cut);
    client.once("close", () => {
      // The client's read and write halves are both done (or it reset): nothing more can reach it.
      connections.delete(client);
      upstream.destroy();
    });
    upstream.once("close", () => {
      connections.delete(upstream);
      // After a clean end the pipe has already ended the client; destroying it would drop unflushed bytes.
      if (upstream.errored !== null) client.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: options.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => log(`gateway relay: ${error.message}`));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      await closed;
    },
  };
}
