import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { CiabError } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import type { PreviewLease, PreviewService } from "../services/preview-service.js";
import { parsePreviewTarget, type PreviewTarget } from "../services/preview-target.js";
import { forwardedRequestHeaders, previewCookie, previewCookieHeader, returnedResponseHeaders } from "./preview-headers.js";
import { writeUpgradeError, writeUpgradeResponse } from "./preview-upgrade.js";
import { PreviewUpstreamPool } from "./preview-upstream-pool.js";

export interface PreviewProxyDependencies {
  previews: PreviewService;
  /** `[previews] domain`: `<port>-<session_id>.<domain>` selects a preview by Host. */
  domain: string | undefined;
  /** `[previews] max_streams_per_session`, also the most connections kept to one preview's server. */
  maxStreamsPerSession: number;
  logger: Logger;
}

/**
 * Serves previews off the Node server, before the API app: bodies stream both ways untouched (no Fetch
 * API conversion, no buffering), and WebSocket upgrades pass through as bytes once the sandbox said 101
 * (docs/decisions/0016-previews.md).
 */
export interface PreviewProxy {
  /** Serves the request if it is a preview and answers true; false leaves it to the API. */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean;
  /** The same for the Node server's `upgrade` event. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Closes kept-alive connections to sandboxes. */
  close(): void;
}

/** Bounds what the sandbox's server may send as an answer head. */
const maximumUpstreamHeaderBytes = 32 * 1024;
/** A sandbox server that accepted the connection but never answers gets this long for its headers. */
const upstreamHeadersTimeoutMs = 60_000;

export function createPreviewProxy(dependencies: PreviewProxyDependencies): PreviewProxy {
  const { previews, logger } = dependencies;
  const pool = new PreviewUpstreamPool(dependencies.maxStreamsPerSession);

  function targetOf(request: IncomingMessage): PreviewTarget | undefined {
    return parsePreviewTarget(request.url ?? "/", request.headers.host, dependencies.domain);
  }

  /**
   * Preview hosts of one domain are one site, so the viewer's SameSite=Lax cookie for this session goes with
   * what another session's page sends here (fetch, form POST, WebSocket); its Origin names that session.
   * Path-based previews share one origin and cannot tell (docs/decisions/0051-path-previews-beside-the-web-ui.md).
   */
  function refuseOtherSessions(request: IncomingMessage, target: PreviewTarget): void {
    const origin = request.headers.origin;
    if (target.prefix !== undefined || origin === undefined || origin === "null") return;
    let from: PreviewTarget | undefined;
    try {
      from = parsePreviewTarget("/", new URL(origin).host, dependencies.domain);
    } catch {
      throw new CiabError("forbidden", "the request's Origin is not a URL");
    }
    if (from !== undefined && from.sessionID !== target.sessionID) {
      throw new CiabError("forbidden", "a page of another session's preview cannot call this one");
    }
  }

  async function serve(request: IncomingMessage, response: ServerResponse, target: PreviewTarget): Promise<void> {
    refuseOtherSessions(request, target);
    if (target.slashRedirect !== undefined) {
      response.writeHead(301, { location: target.slashRedirect, "content-length": 0 }).end();
      return;
    }
    const secure = isSecure(request);
    const lease = await previews.open(target.queryToken ?? previewCookie(request.headers.cookie), target.sessionID, target.port);
    if (target.queryToken !== undefined && (request.method === "GET" || request.method === "HEAD")) {
      lease.release();
      const maxAge = lease.expiresAt - Math.floor(Date.now() / 1000);
      response
        .writeHead(302, {
          location: target.cleanURL,
          "set-cookie": previewCookieHeader(target.queryToken, target.cookiePath, maxAge, secure),
          "cache-control": "no-store",
          "content-length": 0,
        })
        .end();
      request.resume();
      return;
    }
    await forward(request, response, target, lease, secure);
  }

  async function forward(request: IncomingMessage, response: ServerResponse, target: PreviewTarget, lease: PreviewLease, secure: boolean): Promise<void> {
    response.once("close", () => lease.release());
    lease.cutOnRevoke(() => response.destroy());
    const upstream = http.request({
      agent: pool.agentFor(lease.sandboxID, target.port, () => lease.connect()),
      method: request.method ?? "GET",
      path: target.upstreamPath,
      headers: forwardedRequestHeaders(request.headers, { port: target.port, prefix: target.prefix, upgrade: false, secure, keepAlive: true }),
      maxHeaderSize: maximumUpstreamHeaderBytes,
      setHost: false,
    });
    // The tunnel comes paused (its answer line was read off it); the client's listeners are on by now.
    upstream.once("socket", (socket) => socket.resume());
    // A timer of our own, not upstream.setTimeout: an ec2 tunnel (an SSH channel, a WebSocket stream) is
    // no socket and has no setTimeout for the request to call.
    const headersTimer = setTimeout(
      () => upstream.destroy(new CiabError("preview_unreachable", "the server in the sandbox did not answer in time")),
      upstreamHeadersTimeoutMs,
    );
    upstream.once("close", () => clearTimeout(headersTimer));
    upstream.once("response", (answer) => {
      clearTimeout(headersTimer);
      try {
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, returnedResponseHeaders(answer.rawHeaders, { sharedOrigin: target.prefix !== undefined }));
      } catch (error) {
        upstream.destroy();
        sendError(response, new CiabError("preview_unreachable", "the server in the sandbox answered with headers that cannot be passed on", { cause: error }));
        return;
      }
      answer.on("data", lease.touch);
      answer.pipe(response);
      answer.once("error", () => response.destroy());
      answer.once("aborted", () => response.destroy());
    });
    upstream.on("error", (error) => {
      if (response.headersSent) response.destroy();
      else sendError(response, error instanceof CiabError ? error : new CiabError("preview_unreachable", `the server in the sandbox failed: ${error.message}`));
    });
    response.once("close", () => {
      if (!response.writableFinished) upstream.destroy();
    });
    // The head goes out before the body is read, so a server in the sandbox can answer a slow upload early.
    upstream.flushHeaders();
    request.pipe(upstream);
  }

  async function serveUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, target: PreviewTarget): Promise<void> {
    refuseOtherSessions(request, target);
    const lease = await previews.open(target.queryToken ?? previewCookie(request.headers.cookie), target.sessionID, target.port);
    lease.cutOnRevoke(() => socket.destroy());
    const tunnel = await tunnelFor(lease, socket);
    const upstream = http.request({
      createConnection: () => tunnel as never,
      method: request.method ?? "GET",
      path: target.upstreamPath,
      headers: forwardedRequestHeaders(request.headers, { port: target.port, prefix: target.prefix, upgrade: true, secure: isSecure(request) }),
      maxHeaderSize: maximumUpstreamHeaderBytes,
      setHost: false,
    });
    // The tunnel comes paused (its answer line was read off it); the client's listeners are on by now.
    upstream.once("socket", (socket) => socket.resume());
    upstream.once("upgrade", (answer, upstreamSocket, upstreamHead) => {
      writeUpgradeResponse(socket, answer, returnedResponseHeaders(answer.rawHeaders, { keepUpgrade: true, sharedOrigin: target.prefix !== undefined }));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.on("data", lease.touch);
      upstreamSocket.pipe(socket).pipe(upstreamSocket);
      upstreamSocket.once("error", () => socket.destroy());
      upstreamSocket.once("close", () => socket.end());
      socket.once("close", () => upstreamSocket.destroy());
    });
    upstream.once("response", (answer) => {
      // The server declined the upgrade: pass its answer on and close.
      writeUpgradeResponse(socket, answer, returnedResponseHeaders(answer.rawHeaders, { sharedOrigin: target.prefix !== undefined }));
      answer.pipe(socket);
    });
    upstream.on("error", (error) => {
      tunnel.destroy();
      writeUpgradeError(socket, new CiabError("preview_unreachable", `the server in the sandbox failed: ${error.message}`));
    });
    socket.once("error", () => upstream.destroy());
    upstream.end();
  }

  function sendError(response: ServerResponse, error: unknown): void {
    const ciabError = asCiabError(error);
    if (ciabError.code === "internal") logger.error({ err: error }, "preview failed");
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const body = JSON.stringify(ciabError.toBody());
    response.writeHead(ciabError.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
    response.end(body);
  }

  return {
    handleRequest(request, response) {
      const target = targetOf(request);
      if (!target) return false;
      serve(request, response, target).catch((error: unknown) => {
        request.resume();
        sendError(response, error);
      });
      return true;
    },

    handleUpgrade(request, socket, head) {
      const target = targetOf(request);
      if (!target) return false;
      socket.on("error", () => undefined);
      serveUpgrade(request, socket, head, target).catch((error: unknown) => {
        const ciabError = asCiabError(error);
        if (ciabError.code === "internal") logger.error({ err: error }, "preview upgrade failed");
        writeUpgradeError(socket, ciabError);
      });
      return true;
    },

    close: () => pool.close(),
  };
}

/**
 * Connects the lease's tunnel. The caller going away cancels the connect, or closes the tunnel once it is
 * up; either way the lease's stream slot is given back.
 */
async function tunnelFor(lease: PreviewLease, peer: { once(event: "close", listener: () => void): unknown }): Promise<Duplex> {
  const controller = new AbortController();
  let tunnel: Duplex | undefined;
  let connecting = true;
  let peerClosed = false;
  peer.once("close", () => {
    peerClosed = true;
    lease.release();
    if (connecting) controller.abort();
    tunnel?.destroy();
  });
  try {
    tunnel = await lease.connect(controller.signal);
  } catch (error) {
    lease.release();
    throw error;
  } finally {
    connecting = false;
  }
  // Failures show as the HTTP request's error or the peer's close; the stream's own error adds nothing.
  tunnel.on("error", () => undefined);
  if (peerClosed) tunnel.destroy();
  return tunnel;
}

function asCiabError(error: unknown): CiabError {
  return error instanceof CiabError ? error : new CiabError("internal", "internal error", { cause: error });
}

function isSecure(request: IncomingMessage): boolean {
  return (request.socket as TLSSocket).encrypted === true || request.headers["x-forwarded-proto"] === "https";
}
