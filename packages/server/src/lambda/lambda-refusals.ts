import type { MiddlewareHandler } from "hono";
import { CiabError } from "@ciab/protocol";
import { agentChannelPathPrefix } from "../api/agent-channel.js";
import { parsePreviewTarget } from "../services/preview-target.js";
import { lambdaPayloadLimitBytes } from "./lambda-event.js";

/**
 * Routes a Lambda cannot hold, by method and whole path. Each starts work that lives past one answer: a
 * terminal (WebSocket attach), a command whose output is streamed as it runs (cutting the stream would end
 * the command), a session whose agent the control plane follows for its whole run, a Packer build.
 */
const serverOnlyRoutes: { method: string; path: RegExp; what: string }[] = [
  { method: "GET", path: /^\/api\/v1\/sandboxes\/[^/]+\/processes\/[^/]+\/attach$/, what: "attaching a terminal (WebSocket)" },
  { method: "GET", path: /^\/api\/v1\/sessions\/[^/]+\/attach$/, what: "attaching a terminal (WebSocket)" },
  { method: "POST", path: /^\/api\/v1\/sandboxes\/[^/]+\/exec\/stream$/, what: "streaming a command's output as it runs" },
  { method: "POST", path: /^\/api\/v1\/sandboxes\/[^/]+\/shell\/stream$/, what: "streaming a shell command's output as it runs" },
  { method: "POST", path: /^\/api\/v1\/sessions$/, what: "running an agent session (the control plane follows the agent for its whole run)" },
  { method: "POST", path: /^\/api\/v1\/images\/build$/, what: "building an image (Packer runs for minutes)" },
];

export function requiresServer(what: string): CiabError {
  return new CiabError("requires_server", `${what} needs the long-running server (ciab server); this deployment runs the API on AWS Lambda`);
}

/** Refuses, before the API app runs, what only the long-running server can serve. */
export function lambdaRefusals(options: { previewDomain: string | undefined }): MiddlewareHandler {
  return async (c, next) => {
    const { method, path } = c.req;
    if (c.req.header("upgrade") !== undefined) throw requiresServer("a WebSocket upgrade");
    if (path.startsWith(agentChannelPathPrefix)) throw requiresServer("the agent channel (agentd dialing in over a WebSocket)");
    const url = new URL(c.req.url);
    if (parsePreviewTarget(url.pathname + url.search, c.req.header("host"), options.previewDomain) !== undefined) {
      throw requiresServer("the preview proxy");
    }
    const route = serverOnlyRoutes.find((candidate) => candidate.method === method && candidate.path.test(path));
    if (route) throw requiresServer(route.what);
    const length = Number(c.req.header("content-length") ?? "0");
    if (length > lambdaPayloadLimitBytes) {
      throw new CiabError("payload_too_large", `the request body is ${length} bytes; AWS Lambda takes at most ${lambdaPayloadLimitBytes} (upload large files through the long-running server)`);
    }
    return next();
  };
}
