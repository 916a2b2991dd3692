import { printError } from "./action.js";
import { exitStatus } from "./exit-status.js";
import { runCli } from "./program.js";

// `ciab … | head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

// Whatever escapes a command is ciab's own failure: its code, not node's 1, which a remote command may use.
process.on("uncaughtException", (error) => {
  printError(error, false);
  process.exit(exitStatus.failure);
});

process.exitCode = await runCli(process.argv);
