import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import { CiabError } from "../protocol.js";
import { respondError } from "../http/respond.js";
import type { PortConnector } from "../services/port-connector.js";

const loopbackAuthority = /^(?:127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})$/;

/**
 * CONNECT 127.0.0.1:<port>: answers 200 once a loopback connection to the port is up, then the HTTP/2
 * stream carries its bytes both ways, with HTTP/2 flow control as the only buffer. Only loopback: the
 * tunnel reaches what the sandbox serves, never a third host.
 */
export function createPortConnectHandler(connector: PortConnector) {
  return async (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> => {
    const match = loopbackAuthority.exec(headers[":authority"] ?? "");
    const port = Number(match?.[1] ?? 0);
    if (!match || port < 1 || port > 65535) {
      respondError(stream, new CiabError("invalid_request", "CONNECT needs :authority 127.0.0.1:<port>"));
      return;
    }
    let socket: Socket;
    try {
      socket = await connector.connect(port);
    } catch (error) {
      respondError(stream, error);
      return;
    }
    if (stream.destroyed || stream.closed) {
      socket.destroy();
      return;
    }
    splice(stream, socket);
    stream.respond({ ":status": 200 });
  };
}

/** Bytes both ways with half-close kept (an HTTP client may end its request body and still read). */
function splice(stream: ServerHttp2Stream, socket: Socket): void {
  socket.setNoDelay(true);
  stream.pipe(socket);
  socket.pipe(stream);
  socket.on("error", () => stream.destroy());
  socket.once("close", () => {
    if (!stream.destroyed) stream.end();
  });
  stream.once("close", () => socket.destroy());
}
