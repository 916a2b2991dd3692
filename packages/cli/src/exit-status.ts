import { CommanderError } from "commander";
import { UsageError } from "./usage-error.js";

/**
 * ciab's own failures exit with codes a remote command rarely uses, so that a script can tell
 * "the command in the sandbox exited 1" from "ciab could not do what was asked".
 */
export const exitStatus = {
  /** The command line cannot be carried out as written (BSD `EX_USAGE` is 64; 2 is what shells and getopt use). */
  usage: 2,
  /** No server is configured, or it could not be reached (`EX_UNAVAILABLE`). */
  connection: 69,
  /** The server refused (an API error), or ciab itself failed; `docker run` uses 125 the same way. */
  failure: 125,
} as const;

/** The help text's account of the codes above. */
export const exitStatusHelp = `Exit status:
  0      success (exec and run: the remote command's own code)
  2      usage error: unknown command or option, bad argument
  69     no server configured or reachable
  125    the server refused (API error) or ciab failed
With --json, an error is printed on stdout as { "error": { "code", "message" } }.`;

/** The exit code for an error that ended a command. */
export function exitStatusOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof CommanderError) return exitStatus.usage;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "server_not_found" || code === "connection_failed") return exitStatus.connection;
  return exitStatus.failure;
}
