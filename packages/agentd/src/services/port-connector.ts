import net, { type Socket } from "node:net";
import { CiabError } from "../protocol.js";

/** A port nothing listens on must answer fast; one that accepts but is slow to do so gets this long. */
const connectTimeoutMs = 5_000;

/** Opens TCP connections to ports on the sandbox's loopback: IPv4 first, then IPv6 for servers bound to ::1 only. */
export class PortConnector {
  /** `onread` takes the connection's incoming bytes instead of its stream (see Node's `net.connect`). */
  async connect(port: number, onread?: net.OnReadOpts): Promise<Socket> {
    try {
      return await connectOnce("127.0.0.1", port, onread);
    } catch (firstError) {
      try {
        return await connectOnce("::1", port, onread);
      } catch {
        const detail = firstError instanceof Error ? firstError.message : String(firstError);
        throw new CiabError("preview_unreachable", `nothing accepts connections on port ${port} in the sandbox (${detail})`);
      }
    }
  }
}

function connectOnce(host: string, port: number, onread: net.OnReadOpts | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, ...(onread !== undefined && { onread }) });
    const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`)), connectTimeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
