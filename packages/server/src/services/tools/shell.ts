import { toolArgumentSchemas } from "@ciab/protocol";
import type { ToolDefinition } from "./tool-definition.js";

/** `bash -lc CMD`, or `sh -c` where an image has no bash; stdout and stderr kept apart. */
export function loginShellCommand(cmd: string): string[] {
  const script = 'if command -v bash >/dev/null 2>&1; then exec bash -lc "$1"; else exec sh -c "$1"; fi';
  return ["/bin/sh", "-c", script, "sh", cmd];
}

export const shellTool: ToolDefinition<"shell"> = {
  name: "shell",
  description: "Run a command with bash -lc and wait for it: stdout, stderr, exit_code (null when killed at timeout_secs).",
  schema: toolArgumentSchemas.shell,
  async run({ principal, sandboxID, services, signal }, args) {
    const result = await services.exec.run(
      principal,
      sandboxID,
      {
        command: loginShellCommand(args.cmd),
        timeout_ms: args.timeout_secs * 1000,
        ...(args.cwd !== undefined && { cwd: args.cwd }),
        ...(args.env !== undefined && { env: args.env }),
      },
      signal,
    );
    return {
      stdout: result.stdout,
      stderr: result.stderr,
      exit_code: result.exit_code,
      timed_out: result.timed_out,
      truncated: result.truncated,
      duration_ms: result.duration_ms,
    };
  },
  summary: (args) => ({ cmd_bytes: Buffer.byteLength(args.cmd), cwd: args.cwd ?? "/workspace", env: Object.keys(args.env ?? {}) }),
};
