import type net from "node:net";
import type { Duplex } from "node:stream";

/** Bytes both ways, ends passed on (half-close kept), and either side gone takes the other. */
export function splice(socket: net.Socket, duplex: Duplex): void {
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
