import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import { CiabError, type ErrorCode } from "@ciab/protocol";
import type { Logger } from "./logger.js";

export interface HTTPEdgeLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  /** 0: a request may take as long as its upload needs. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/**
 * The Node HTTP server in front of the app, with the limits that keep one client from starving the rest:
 * connections in all and per address, the size and time of a request head, and idle keep-alives. A
 * request the parser refuses gets the usual JSON error body, not Node's bare status line.
 */
export function createHTTPEdge(
  fetch: (request: Request) => Response | Promise<Response>,
  limits: HTTPEdgeLimits,
  logger: Logger,
  /** Serves a request ahead of the app (previews stream as Node streams); true when it took it. */
  intercept?: (request: IncomingMessage, response: ServerResponse) => boolean,
): Server {
  const headersTimeout = limits.requestTimeoutMs > 0 ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) : limits.headersTimeoutMs;
  const app = getRequestListener(fetch);
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Timeouts are only enforced when this timer runs; the default (30 s) would let slow heads linger.
      connectionsCheckingInterval: Math.min(1000, headersTimeout),
    },
    (request, response) => {
      if (!intercept?.(request, response)) void app(request, response);
    },
  );
  server.maxConnections = limits.maxConnections;

  const perAddress = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "";
    const open = (perAddress.get(address) ?? 0) + 1;
    if (open > limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    perAddress.set(address, open);
    socket.once("close", () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });

  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A response already under way on this socket cannot be followed by another one.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || error.code === "ECONNRESET" || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const answer = clientErrorAnswer(error);
    logger.debug({ code: error.code }, "refused a malformed request");
    const body = JSON.stringify(answer.toBody());
    socket.end(
      `HTTP/1.1 ${answer.status} ${statusText(answer.status)}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  return server;
}

function clientErrorAnswer(error: NodeJS.ErrnoException): CiabError {
  const byCode: Record<string, [ErrorCode, string]> = {
    HPE_HEADER_OVERFLOW: ["header_too_large", "the request line and headers are too large"],
    ERR_HTTP_REQUEST_TIMEOUT: ["request_timeout", "the request took too long to arrive"],
    ERR_HTTP_HEADERS_TIMEOUT: ["request_timeout", "the request headers took too long to arrive"],
  };
  const [code, message] = byCode[error.code ?? ""] ?? ["invalid_request", "the request is not valid HTTP/1.1"];
  return new CiabError(code, message);
}

function statusText(status: number): string {
  return { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" }[status] ?? "Error";
}
