import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import https from "node:https";
import { CiabError } from "@ciab/protocol";

/** Sees an upstream response's body as it streams through; `end(true)` after the last byte, `end(false)` if cut. */
export interface ResponseObserver {
  chunk(data: Buffer): void;
  end(completed: boolean): void;
}

export interface ForwardTarget {
  url: URL;
  /** The headers to send upstream, already stripped of the agent's credentials and hop-by-hop fields. */
  headers: OutgoingHttpHeaders;
}

export interface GatewayForwarder {
  /**
   * Sends `request` (its body streamed, never buffered) to `target` and streams the answer back to `response`
   * chunk by chunk. Resolves once the exchange is over, whichever way it ended. An upstream that cannot be
   * reached answers 502 `runtime_error`; the client going away aborts the upstream request.
   */
  forward(
    request: IncomingMessage,
    response: ServerResponse,
    target: ForwardTarget,
    observe: (upstream: IncomingMessage) => ResponseObserver | undefined,
  ): Promise<void>;
  /** Drops the pooled upstream connections. */
  close(): void;
}

/** Headers that describe one hop, never the message (RFC 9110 §7.6.1), plus what Node sets itself. */
const hopByHopHeaders = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

export function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase()),
  );
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHopHeaders.has(name) && !listed.has(name)) result[name] = value;
  }
  return result;
}

/**
 * Forwards with node:http/https and pooled keep-alive connections: measured against fetch (undici), it adds
 * less to the time to first byte, and it hands over each chunk as it is read, with backpressure by pause.
 */
export function createGatewayForwarder(): GatewayForwarder {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, scheduling: "lifo", noDelay: true }),
    "https:": new https.Agent({ keepAlive: true, scheduling: "lifo", noDelay: true }),
  };

  return {
    forward(request, response, target, observe) {
      return new Promise<void>((resolve) => {
        const isHTTPS = target.url.protocol === "https:";
        const controller = new AbortController();
        const upstreamRequest = (isHTTPS ? https : http).request(target.url, {
          method: request.method,
          headers: target.headers,
          agent: agents[isHTTPS ? "https:" : "http:"],
          signal: controller.signal,
        });
        let settled = false;
        const settle = (): void => {
          if (settled) return;
          settled = true;
          resolve();
        };
        // The agent hung up (or its relay did) before the answer was complete: stop paying for it upstream.
        response.once("close", () => {
          if (!response.writableFinished) controller.abort();
          settle();
        });

        upstreamRequest.once("error", (error) => {
          if (controller.signal.aborted) return settle();
          if (response.headersSent) {
            response.destroy(error);
          } else {
            const failure = new CiabError("runtime_error", `upstream ${target.url.host} failed: ${error.message}`, {
              cause: error,
              retryable: true,
            });
            const body = JSON.stringify(failure.toBody());
            response.writeHead(failure.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
            response.end(body);
          }
          settle();
        });

        upstreamRequest.once("response", (upstream) => {
          const observer = observe(upstream);
          response.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, withoutHopByHop(upstream.headers));
          response.flushHeaders();
          upstream.on("data", (chunk: Buffer) => {
            observer?.chunk(chunk);
            if (!response.write(chunk)) {
              upstream.pause();
              response.once("drain", () => upstream.resume());
            }
          });
          upstream.once("end", () => {
            observer?.end(true);
            response.end();
            settle();
          });
          // An upstream reset mid-body: the agent must see a broken stream, not a clean end.
          upstream.once("error", () => undefined);
          upstream.once("close", () => {
            if (upstream.complete) return;
            observer?.end(false);
            response.destroy();
            settle();
          });
        });

        request.pipe(upstreamRequest);
      });
    },

    close() {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}
