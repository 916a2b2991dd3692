import { toolArgumentSchemas } from "@ciab/protocol";
import type { ToolDefinition } from "./tool-definition.js";

export const shellStreamTool: ToolDefinition<"shell_stream"> = {
  name: "shell_stream",
  description:
    "Start a command with bash -lc in the background (stderr folded into stdout) and get a stream id; tail its output over SSE at tail_url from any byte offset.",
  schema: toolArgumentSchemas.shell_stream,
  async run({ principal, sandboxID, services, origin }, args) {
    const stream = await services.shell.start(principal, sandboxID, args);
    return { ...stream, sandbox_id: sandboxID, tail_url: `${origin}/api/v1/sandboxes/${sandboxID}/shell/stream/${stream.stream_id}` };
  },
  summary: (args) => ({ cmd_bytes: Buffer.byteLength(args.cmd), cwd: args.cwd ?? "/workspace", env: Object.keys(args.env ?? {}) }),
};
