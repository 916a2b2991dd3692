import { Hono } from "hono";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { AuthService } from "../services/auth-service.js";
import type { ToolService } from "../services/tools/tool-service.js";
import { bindConnectionToToken } from "../api/token-bound-connections.js";
import { createMCPToolsServer } from "./mcp-tools-server.js";

export const mcpPath = "/mcp";

/**
 * The sandbox tools over MCP's streamable HTTP at `/mcp`, with the API's bearer tokens: each request is
 * authenticated and served by a fresh server and stateless transport, so the caller's workspace scopes
 * every tool call and no MCP session outlives its request. A revoke of the token cuts the request, and with it
 * the calls under way.
 */
export function mcpRoutes(dependencies: { auth: AuthService; tools: ToolService; version: string }) {
  return new Hono().all(mcpPath, async (c) => {
    const principal = await dependencies.auth.authenticate(c.req.header("authorization"));
    bindConnectionToToken(dependencies.auth, principal, c);
    const server = createMCPToolsServer(dependencies.tools, principal, c.req.raw, dependencies.version);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    // Answers once every call of the request has its result (JSON, not SSE); both are garbage afterwards.
    return transport.handleRequest(c.req.raw);
  });
}
