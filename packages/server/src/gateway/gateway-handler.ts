import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { CiabError } from "@ciab/protocol";
import type { Logger } from "../logger.js";
import { isGatewayAPI, joinUpstreamURL, upstreamBaseURL, type GatewayAPI, type GatewayConfig } from "./gateway-config.js";
import { gatewayPathSegments } from "./gateway-path.js";
import { isAllowedRoute } from "./gateway-routes.js";
import { withoutHopByHop, type GatewayForwarder, type ResponseObserver } from "./gateway-forwarder.js";
import { gatewaySecretNames, type GatewaySecrets, type GatewaySessions } from "./gateway.js";
import { costOf } from "./model-prices.js";
import { handleArtifactPublish, type GatewayArtifactPublisher } from "./gateway-artifacts.js";
import { createUsageMeter } from "./usage-meter.js";

export interface GatewayHandlerDeps {
  /** The sandbox whose socket this handler serves; tokens of other sandboxes are refused. */
  sandboxID: string;
  config: GatewayConfig;
  sessions: GatewaySessions;
  secrets: GatewaySecrets;
  forwarder: GatewayForwarder;
  logger: Logger;
  /** Serves `POST /ciab/artifacts` (the in-sandbox `ciab-artifact publish`) when set. */
  publishArtifact?: GatewayArtifactPublisher | undefined;
}

/** Every header an agent may carry its key in; none of them is ever forwarded. */
const credentialHeaders = ["x-api-key", "authorization", "x-goog-api-key"];

/**
 * `/<api>/<rest>?<query>` → check the path against the API's routes, check the token and that its session's
 * agent speaks this API, swap in the real key, forward, meter. Nothing refused reaches the upstream.
 */
export function createGatewayHandler(deps: GatewayHandlerDeps): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const started = performance.now();
    handle(deps, request, response)
      .catch((error: unknown) => {
        if (!(error instanceof CiabError)) deps.logger.error({ err: error }, "gateway request failed");
        answerError(response, error);
      })
      .finally(() => {
        // The path names the route and model, never a credential; the query (which may hold `key=`) is not logged.
        const path = (request.url ?? "/").split("?")[0];
        deps.logger.debug({ method: request.method, path, status: response.statusCode, ms: Math.round(performance.now() - started) }, "gateway request");
      });
  };
}

async function handle(deps: GatewayHandlerDeps, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const target = request.url ?? "/";
  const queryStart = target.indexOf("?");
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? "" : target.slice(queryStart + 1);
  const match = /^\/([a-z]+)(\/.*)?$/.exec(path);
  const api = match?.[1];
  if (api === "ciab" && match?.[2] === "/artifacts" && deps.publishArtifact) {
    const session = await sessionOf(deps, request.headers, rawQuery);
    await handleArtifactPublish(deps.publishArtifact, session.sessionID, request, response);
    return;
  }
  if (api === undefined || !isGatewayAPI(api)) {
    throw new CiabError("forbidden", "no such gateway route; use /anthropic/…, /openai/… or /google/…");
  }
  const rest = match?.[2] ?? "/";
  if (request.method === "HEAD" && rest === "/") {
    // Agents (claude-code) warm their connection with a HEAD of the base URL: answered here, never forwarded.
    response.writeHead(200, { "content-length": 0 }).end();
    return;
  }
  gatewayPathSegments(rest);
  if (!isAllowedRoute(api, request.method, rest)) {
    throw new CiabError("forbidden", `${request.method} /${api}${rest} is not a route the model gateway forwards`);
  }

  const session = await sessionOf(deps, request.headers, rawQuery);
  if (!session.apis.includes(api)) {
    throw new CiabError("forbidden", `session ${session.sessionID}'s agent does not use the ${api} API`);
  }
  const key = await deps.secrets.get(session.workspaceID, gatewaySecretNames[api]);

  const url = joinUpstreamURL(upstreamBaseURL(deps.config, api), rest, withoutKeyParameter(rawQuery));
  const headers = upstreamHeaders(request.headers, api, key);
  await deps.forwarder.forward(request, response, { url, headers }, (upstream) =>
    meterInto(deps, session.sessionID, api, String(upstream.headers["content-type"] ?? ""), rest),
  );
}

/** The live session whose token the request carries, in this sandbox; anything else is refused. */
async function sessionOf(deps: GatewayHandlerDeps, headers: IncomingHttpHeaders, rawQuery: string) {
  const token = tokenOf(headers, rawQuery);
  if (token === undefined) throw new CiabError("unauthorized", "no gateway token: send the session's token as the API key");
  const session = await deps.sessions.resolve(deps.sandboxID, token);
  if (!session) throw new CiabError("unauthorized", "the gateway token is not valid for this sandbox");
  if (deps.sessions.isCutOff(session.sessionID)) {
    throw new CiabError("forbidden", `session ${session.sessionID} was cut off from the model gateway`);
  }
  return session;
}

function meterInto(deps: GatewayHandlerDeps, sessionID: string, api: GatewayAPI, contentType: string, path: string): ResponseObserver {
  const meter = createUsageMeter(api, contentType, path);
  let ended = false;
  return {
    chunk: (data) => meter.push(data),
    end() {
      if (ended) return;
      ended = true;
      const usage = meter.finish();
      if (!usage) return;
      try {
        deps.sessions.recordUsage(sessionID, { api, ...usage, cost_usd: costOf(usage.model, usage) });
      } catch (error) {
        deps.logger.error({ err: error, sessionID }, "recording gateway usage failed");
      }
    },
  };
}

function tokenOf(headers: IncomingHttpHeaders, rawQuery: string): string | undefined {
  const direct = headers["x-api-key"] ?? headers["x-goog-api-key"];
  if (typeof direct === "string" && direct !== "") return direct;
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "");
  if (bearer?.[1] !== undefined) return bearer[1];
  const key = new URLSearchParams(rawQuery).get("key");
  return key === null || key === "" ? undefined : key;
}

/** Drops `key=` from a raw query, leaving every other parameter exactly as the agent encoded it. */
function withoutKeyParameter(rawQuery: string): string {
  if (rawQuery === "") return "";
  return rawQuery
    .split("&")
    .filter((part) => decodeName(part.split("=")[0] ?? "") !== "key")
    .join("&");
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, " "));
  } catch {
    return name;
  }
}

/**
 * The agent's headers minus its credentials, with the real key in the API's own header. Compression is
 * refused upstream so the usage meter can read the body; the relay and socket are local, so nothing is lost.
 */
function upstreamHeaders(incoming: IncomingHttpHeaders, api: GatewayAPI, key: string | undefined): OutgoingHttpHeaders {
  const headers = withoutHopByHop(incoming);
  for (const name of credentialHeaders) delete headers[name];
  headers["accept-encoding"] = "identity";
  if (key !== undefined) {
    if (api === "anthropic") headers["x-api-key"] = key;
    else if (api === "openai") headers.authorization = `Bearer ${key}`;
    else headers["x-goog-api-key"] = key;
  }
  return headers;
}

function answerError(response: ServerResponse, error: unknown): void {
  const failure = error instanceof CiabError ? error : new CiabError("internal", "the model gateway failed", { cause: error });
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = JSON.stringify(failure.toBody());
  response.writeHead(failure.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  response.end(body);
}
