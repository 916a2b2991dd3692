import { UsageError } from "../usage-error.js";

/** `-` (stdin or stdout) or a path on this machine. */
export type LocalTarget = { kind: "stdio" } | { kind: "file"; path: string };

/** `ID:/path`: a path in a sandbox. */
export interface SandboxTarget {
  kind: "sandbox";
  sandboxID: string;
  path: string;
}

export type CopyPlan =
  | { direction: "upload"; from: LocalTarget; to: SandboxTarget }
  | { direction: "download"; from: SandboxTarget; to: LocalTarget };

/** A sandbox id or name, then a colon; `./a:b` or `/a:b` stay local paths. */
const sandboxTargetPattern = /^([A-Za-z0-9][A-Za-z0-9_-]*):(.*)$/s;

export function parseCopyTarget(argument: string): LocalTarget | SandboxTarget {
  if (argument === "-") return { kind: "stdio" };
  const match = sandboxTargetPattern.exec(argument);
  if (!match) return { kind: "file", path: argument };
  const [, sandboxID = "", path = ""] = match;
  if (path === "") {
    throw new UsageError(`"${argument}" names no path in the sandbox (write ${sandboxID}:/workspace/…)`);
  }
  return { kind: "sandbox", sandboxID, path };
}

/** `ciab sandbox cp SRC DST`: exactly one side is in a sandbox. */
export function parseCopyArguments(source: string, destination: string): CopyPlan {
  const from = parseCopyTarget(source);
  const to = parseCopyTarget(destination);
  if (from.kind === "sandbox" && to.kind === "sandbox") {
    throw new UsageError("copying between two sandboxes is not supported: copy through a local file");
  }
  if (from.kind === "sandbox" && to.kind !== "sandbox") return { direction: "download", from, to };
  if (to.kind === "sandbox" && from.kind !== "sandbox") return { direction: "upload", from, to };
  throw new UsageError("one side of cp must be a sandbox path, written ID:/path");
}

/**
 * Where a copy lands when the destination is a directory (or written as one, with a trailing slash):
 * inside it, under the source's base name, as `cp` does.
 */
export function joinIntoDirectory(directory: string, sourcePath: string): string {
  const base = sourcePath.replace(/\/+$/, "").split("/").at(-1) ?? "";
  return directory.endsWith("/") ? `${directory}${base}` : `${directory}/${base}`;
}
