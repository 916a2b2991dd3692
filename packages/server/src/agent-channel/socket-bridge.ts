import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import { spliceSocket } from "@ciab/protocol";

/**
 * A native socket whose bytes are the duplex's, for running HTTP/2 over a stream that is not a socket (an SSH
 * channel, a WebSocket stream of the reverse channel). Given such a stream, Node 20's HTTP/2 session writes
 * through its JSStreamSocket, which trips an internal assertion when the session is closed while a write is
 * pending: thrown from a native callback, it takes the process down. Over a unix socket pair made here (in a
 * private dir, removed once connected) the session writes to a real socket, and the pair is piped to the
 * duplex. A socket is returned as it is.
 */
export async function nativeSocketFor(duplex: Duplex): Promise<net.Socket> {
  if (duplex instanceof net.Socket) return duplex;
  const directory = await mkdtemp(path.join(os.tmpdir(), "ciab-bridge-"));
  const server = net.createServer();
  try {
    const socketPath = path.join(directory, "s");
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
    const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
    const outer = net.connect(socketPath);
    const inner = await accepted;
    spliceSocket(inner, duplex);
    return outer;
  } catch (error) {
    duplex.destroy();
    throw error;
  } finally {
    server.close();
    await rm(directory, { recursive: true, force: true });
  }
}
