import { createHash } from "node:crypto";
import { CiabError, toolArgumentSchemas } from "@ciab/protocol";
import { callPath, insideWorkDirectory } from "../policy/tool-policy.js";
import type { ToolContext, ToolDefinition } from "./tool-definition.js";

/**
 * Writes a file outside the work dir, where agentd's files API does not reach (docs/decisions/0002): a
 * command inside the sandbox, whose own isolation bounds it, like any exec. Reached only through a policy
 * rule that allows it, by default after an admin's approval.
 */
async function writeOutside({ principal, sandboxID, services, signal }: ToolContext, target: string, bytes: Buffer, mode: number | undefined) {
  const script = 'mkdir -p -- "$(dirname -- "$1")" && base64 -d > "$1" && if [ -n "$2" ]; then chmod "$2" "$1"; fi';
  const modeText = mode === undefined ? "" : mode.toString(8);
  const result = await services.exec.run(
    principal,
    sandboxID,
    { command: ["/bin/sh", "-c", script, "sh", target, modeText], stdin: bytes.toString("base64") },
    signal,
  );
  if (result.exit_code !== 0) {
    // The sandbox's stderr is its own word: a short, bounded quote of it.
    throw new CiabError("forbidden", `cannot write ${target} in the sandbox: ${result.stderr.slice(0, 200).trim()}`);
  }
  return { path: target, size: bytes.length, mode: mode ?? null };
}

export const writeFileTool: ToolDefinition<"write_file"> = {
  name: "write_file",
  description:
    "Write a file (parents are created; content utf8 or base64, mode as octal digits). Outside /workspace it waits for an admin's approval by default.",
  schema: toolArgumentSchemas.write_file,
  async run(context, args) {
    const bytes = Buffer.from(args.content, args.encoding ?? "utf8");
    const target = callPath(args);
    if (!insideWorkDirectory(target)) return writeOutside(context, target, bytes, args.mode);
    // agentd resolves symlinks and refuses any that lead out of the work dir.
    return context.services.files.write(context.principal, context.sandboxID, args.path, bytes, args.mode);
  },
  summary(args) {
    const bytes = Buffer.from(args.content, args.encoding ?? "utf8");
    return {
      path: callPath(args),
      mode: args.mode === undefined ? null : args.mode.toString(8).padStart(4, "0"),
      bytes: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    };
  },
};
