import { toolArgumentSchemas } from "@ciab/protocol";
import type { ToolDefinition } from "./tool-definition.js";

export const listFilesTool: ToolDefinition<"list_files"> = {
  name: "list_files",
  description: "List a directory of the session's work dir: name, path, type, size, mode, modified_at of each entry.",
  schema: toolArgumentSchemas.list_files,
  async run({ principal, sandboxID, services }, args) {
    return { entries: await services.files.list(principal, sandboxID, args.path, args.depth) };
  },
  summary: (args) => ({ path: args.path, depth: args.depth }),
};
