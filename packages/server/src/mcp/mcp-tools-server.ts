import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { CiabError, toolArgumentSchemas, toolNames } from "@ciab/protocol";
import type { Principal } from "../services/auth-service.js";
import { toolRegistry } from "../services/tools/tool-registry.js";
import type { ToolService } from "../services/tools/tool-service.js";

/** What MCP adds to each tool's arguments: the session to act in, and how long to wait on an approval. */
const placement = {
  session_id: z.string().min(1).max(64).describe("The session whose sandbox the tool acts in (ses_…)"),
  wait_secs: z.number().int().min(0).max(3600).optional().describe("Wait this long for an admin's decision on a held call"),
};

function textResult(value: unknown, isError = false): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }], ...(isError && { isError: true }) };
}

/**
 * An MCP server with the sandbox tools, acting as one caller: the same registry, schemas, policy and audit
 * as `POST /sessions/{sid}/tools/{name}`. Built per request (the transport is stateless).
 */
export function createMCPToolsServer(tools: ToolService, principal: Principal, request: Request, version: string): McpServer {
  const origin = new URL(request.url).origin;
  const server = new McpServer({ name: "ciab", version });
  for (const name of toolNames) {
    const inputSchema: z.ZodObject = toolArgumentSchemas[name].extend(placement);
    server.registerTool(
      name,
      { description: toolRegistry[name].description, inputSchema },
      async (input): Promise<CallToolResult> => {
        const { session_id: sessionID, wait_secs: waitSecs, ...args } = input;
        try {
          const answer = await tools.call(principal, sessionID as string, name, args, {
            origin,
            waitMs: typeof waitSecs === "number" ? waitSecs * 1000 : 0,
            // The HTTP request's signal, as for the REST route: closing the per-request server must not abort calls.
            signal: request.signal,
          });
          return textResult(answer.kind === "pending" ? { approval: answer.approval } : answer.result);
        } catch (error) {
          const body = error instanceof CiabError ? error.toBody() : new CiabError("internal", "the tool call failed").toBody();
          return textResult(body, true);
        }
      },
    );
  }
  return server;
}
