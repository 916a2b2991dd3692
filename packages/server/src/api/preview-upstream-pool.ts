import http from "node:http";
import type { Duplex } from "node:stream";

/** Idle connections to a sandbox's server are kept this long for the next request of the same preview. */
const idleMs = 5_000;
/** Previews with a pool at once; the least recently used one goes beyond it. */
const maximumPools = 1_000;

/**
 * Kept-alive HTTP/1.1 connections to each preview's server, over tunnels opened on demand: a page's
 * burst of asset requests pays the tunnel and the TCP connect once, not per request. Only raw tunnels
 * (sockets) are kept; an HTTP/2 CONNECT stream serves one request and closes.
 */
export class PreviewUpstreamPool {
  readonly #agents = new Map<string, TunnelAgent>();
  readonly #maxSockets: number;

  constructor(maxSocketsPerPreview: number) {
    this.#maxSockets = maxSocketsPerPreview;
  }

  /** The agent for one port of one sandbox; `open` makes a new tunnel when no idle one is left. */
  agentFor(sandboxID: string, port: number, open: () => Promise<Duplex>): http.Agent {
    const key = `${sandboxID}:${port}`;
    let agent = this.#agents.get(key);
    if (agent) this.#agents.delete(key);
    else agent = new TunnelAgent(this.#maxSockets);
    agent.open = open;
    this.#agents.set(key, agent);
    if (this.#agents.size > maximumPools) {
      const [oldestKey, oldest] = this.#agents.entries().next().value!;
      this.#agents.delete(oldestKey);
      oldest.destroy();
    }
    return agent;
  }

  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }
}

class TunnelAgent extends http.Agent {
  open: () => Promise<Duplex> = () => Promise.reject(new Error("no tunnel opener"));

  constructor(maxSockets: number) {
    super({ keepAlive: true, maxSockets, maxFreeSockets: 16, timeout: idleMs, scheduling: "lifo" });
  }

  override createConnection(_options: unknown, callback?: (error: Error | null, socket: Duplex) => void): undefined {
    this.open().then(
      (socket) => callback?.(null, asClientSocket(socket)),
      (error: Error) => callback?.(error, undefined as never),
    );
    return undefined;
  }

  /** Node reads a boolean (keep it or not) where @types/node says void. */
  override keepSocketAlive(socket: Duplex): void {
    // HTTP/2 streams (the CONNECT fallback) cannot idle in a socket pool.
    const keep = typeof (socket as { setKeepAlive?: unknown }).setKeepAlive === "function" && (super.keepSocketAlive(socket as never) as unknown as boolean);
    return keep as unknown as void;
  }
}

/**
 * Node's HTTP client calls setTimeout on its socket (the agent's idle timeout, at the end of each
 * response). An ec2 tunnel (an SSH channel, a WebSocket stream) has none; it is never pooled (no
 * setKeepAlive), so there is no idle time to bound and a no-op serves.
 */
function asClientSocket(tunnel: Duplex): Duplex {
  const timed = tunnel as Duplex & { setTimeout?: unknown };
  if (typeof timed.setTimeout !== "function") timed.setTimeout = () => tunnel;
  return tunnel;
}
