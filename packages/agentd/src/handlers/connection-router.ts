import type { OnReadOpts, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { rawTunnelGreeting, rawWriteGreeting } from "../protocol.js";
import type { FileService } from "../services/file-service.js";
import type { PortConnector } from "../services/port-connector.js";
import { serveRawWrite } from "./raw-write-handler.js";

/**
 * Routes a new connection on agentd's socket by its first bytes: the raw tunnel or raw write greeting
 * (see rawTunnelGreeting and rawWriteGreeting in the protocol), or anything else to HTTP/2 with those
 * bytes put back.
 */
export function createConnectionRouter(connector: PortConnector, files: FileService, sandboxID: string | undefined, serveHTTP2: (socket: Duplex) => void) {
  const startsWith = (first: Buffer, greeting: string) => first.subarray(0, greeting.length).equals(Buffer.from(greeting));
  return (socket: Duplex): void => {
    socket.once("data", (first: Buffer) => {
      socket.pause();
      if (startsWith(first, rawTunnelGreeting)) void serveRawTunnel(socket, first, connector, sandboxID);
      else if (startsWith(first, rawWriteGreeting)) serveRawWrite(socket, first, files, sandboxID);
      else {
        socket.unshift(first);
        serveHTTP2(socket);
      }
    });
    socket.on("error", () => undefined);
  };
}

async function serveRawTunnel(socket: Duplex, first: Buffer, connector: PortConnector, sandboxID: string | undefined): Promise<void> {
  // The greeting comes in one write of a few bytes; anything else is not a client of ours.
  const end = first.indexOf(10);
  const match = /^(\d{1,5})(?: (\S{1,128}))?$/.exec(first.subarray(rawTunnelGreeting.length, end === -1 ? 0 : end).toString("latin1"));
  const port = Number(match?.[1] ?? 0);
  if (end === -1 || port < 1 || port > 65535) {
    socket.end(toErrorLine("invalid_request", "a raw tunnel starts with CIAB-CONNECT <port> [<sandboxID>] and a newline"));
    return;
  }
  // A tunnel meant for another sandbox (a swapped socket link) connects to nothing here and says nothing
  // of what listens.
  if (match?.[2] !== undefined && match[2] !== (sandboxID ?? "-")) {
    socket.end(toErrorLine("agent_unreachable", "this agent serves another sandbox"));
    return;
  }
  const relay = relayInto(socket);
  let target: Socket;
  try {
    target = await connector.connect(port, relay.onread);
  } catch (error) {
    socket.end(toErrorLine("preview_unreachable", error instanceof Error ? error.message : String(error)));
    return;
  }
  relay.source = target;
  target.setNoDelay(true);
  socket.write(`OK ${sandboxID ?? "-"}\n`);
  const rest = first.subarray(end + 1);
  if (rest.length > 0) target.write(rest);
  socket.pipe(target);
  target.once("end", () => socket.end());
  socket.resume();
  // The pipes end each side gracefully (what was written still arrives); errors and a closed control
  // plane cut both at once.
  target.on("error", () => socket.destroy());
  socket.once("close", () => target.destroy());
}

/** `ERR <code> <message>\n`, the message on one line. */
function toErrorLine(code: string, message: string): string {
  return `ERR ${code} ${message.replace(/[\r\n]+/g, " ").slice(0, 400)}\n`;
}

/** The most a tunnel reads from the server in the sandbox at once (a socket read is 64 KiB otherwise). */
const relayReadBytes = 1024 * 1024;
/** One read buffer for every tunnel: each read is copied out before the next one can happen. */
let relayBuffer: Buffer | undefined;

/**
 * Reads the sandbox server's bytes in pieces of up to 1 MiB and writes each on to `peer` as it came: a
 * bulk download crosses agentd in a few large writes rather than many 64 KiB ones, which is what a busy
 * host pays for (a wake-up and two system calls per piece). Reading stops while `peer` is full.
 */
function relayInto(peer: Duplex): { onread: OnReadOpts; source: Socket | undefined } {
  const relay: { onread: OnReadOpts; source: Socket | undefined } = {
    source: undefined,
    onread: {
      buffer: () => (relayBuffer ??= Buffer.allocUnsafe(relayReadBytes)),
      callback: (bytes, buffer) => {
        if (peer.write(Buffer.from(buffer.subarray(0, bytes)))) return true;
        peer.once("drain", () => relay.source?.resume());
        return false;
      },
    },
  };
  return relay;
}
