import type { ProcessBody } from "@ciab/protocol";
import { formatAge } from "./age.js";
import { formatTable } from "./table.js";

/** Widest command cell; the JSON output has it whole. */
const commandColumnWidth = 60;

/** What `sandbox ps` prints: the pid `attach` takes, what runs, since when, and how it ended. */
export function formatProcessTable(processes: readonly ProcessBody[], now: number = Date.now()): string {
  if (processes.length === 0) return "no processes";
  return formatTable(
    ["PID", "STATE", "STARTED", "TTY", "TAG", "COMMAND"],
    processes.map((process) => [
      String(process.pid),
      processState(process),
      `${formatAge(process.started_at, now)} ago`,
      process.pty ? "yes" : "",
      process.tag ?? "",
      formatCommand(process.command),
    ]),
  );
}

function processState(process: ProcessBody): string {
  if (process.running) return "running";
  if (process.exit_code !== null) return `exited ${process.exit_code}`;
  return process.signal === null ? "exited" : `killed ${process.signal}`;
}

/** argv as one line, a `sh -c` script shown as the script; cut past the column's width. */
function formatCommand(command: readonly string[]): string {
  const shown = command.length === 3 && command[0] === "/bin/sh" && command[1] === "-c" ? command[2]! : command.join(" ");
  const line = shown.replace(/\s+/g, " ");
  return line.length > commandColumnWidth ? `${line.slice(0, commandColumnWidth - 1)}…` : line;
}
