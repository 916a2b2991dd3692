import { CiabError, type ToolName } from "@ciab/protocol";
import { listFilesTool } from "./list-files.js";
import { publishArtifactTool } from "./publish-artifact.js";
import { readFileTool } from "./read-file.js";
import { shellStreamTool } from "./shell-stream.js";
import { shellTool } from "./shell.js";
import type { ToolDefinition } from "./tool-definition.js";
import { writeFileTool } from "./write-file.js";

/** Every tool by name; the REST route and the MCP server serve exactly these. */
export const toolRegistry: { [N in ToolName]: ToolDefinition<N> } = {
  list_files: listFilesTool,
  read_file: readFileTool,
  write_file: writeFileTool,
  shell: shellTool,
  shell_stream: shellStreamTool,
  publish_artifact: publishArtifactTool,
};

export const toolDefinitions = Object.values(toolRegistry) as ToolDefinition[];

export function toolByName(name: string): ToolDefinition {
  if (!Object.hasOwn(toolRegistry, name)) {
    throw new CiabError("not_found", `no tool ${name}; tools: ${Object.keys(toolRegistry).join(", ")}`);
  }
  return toolRegistry[name as ToolName] as ToolDefinition;
}
