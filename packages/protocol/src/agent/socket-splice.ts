import type net from "node:net";
import type { Duplex } from "node:stream";

/**
 * Bytes both ways, ends passed on (half-close kept), and either side gone takes the other. Used on both ends
 * of the agent channel to put a native socket under HTTP/2; it imports nothing at run time, so agentd's
 * bundle carries it alone.
 */
export function spliceSocket(socket: net.Socket, duplex: Duplex): void {
  socket.setNoDelay(true);
  duplex.pipe(socket);
  socket.pipe(duplex);
  const cut = (): void => {
    socket.destroy();
    duplex.destroy();
  };
  socket.once("error", cut).once("close", cut);
  duplex.once("error", cut).once("close", cut);
}
