import { toolArgumentSchemas } from "@ciab/protocol";
import type { ToolDefinition } from "./tool-definition.js";

const strictUTF8 = new TextDecoder("utf-8", { fatal: true });

/** Text when the bytes are UTF-8 without NUL bytes; base64 otherwise. */
function encode(bytes: Buffer): { encoding: "utf8" | "base64"; content: string } {
  if (!bytes.includes(0)) {
    try {
      return { encoding: "utf8", content: strictUTF8.decode(bytes) };
    } catch {
      // Not UTF-8: binary.
    }
  }
  return { encoding: "base64", content: bytes.toString("base64") };
}

export const readFileTool: ToolDefinition<"read_file"> = {
  name: "read_file",
  description: "Read a file of the work dir (at most 10 MiB): text as utf8, binary as base64.",
  schema: toolArgumentSchemas.read_file,
  async run({ principal, sandboxID, services }, args) {
    const file = await services.files.read(principal, sandboxID, args.path, "base64");
    const bytes = Buffer.from(file.content, "base64");
    return { path: file.path, size: bytes.length, ...encode(bytes) };
  },
  summary: (args) => ({ path: args.path }),
};
