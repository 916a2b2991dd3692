import path from "node:path";

/**
 * The files through which ciab's session runner hands a headless job to the entrypoint and follows it
 * (docs/decisions/0038): all in a 0700 directory of the container's user, beside agentd's.
 */
export interface JobFiles {
  directory: string;
  /** The entrypoint's pid, so the follower can pass a cancel on as SIGTERM. */
  entrypointPID: string;
  /** `{ env }` for the job, written whole (renamed into place) once the session's work dir is ready. */
  launch: string;
  /** pi's JSON lines, then one `ciab.job_exit` line with the container's exit code. */
  output: string;
  /** Made by the follower once it printed the exit, so a stopping entrypoint knows it was handed on. */
  collected: string;
}

export function jobFiles(runDirectory: string): JobFiles {
  const directory = path.join(runDirectory, "job");
  return {
    directory,
    entrypointPID: path.join(directory, "entrypoint.pid"),
    launch: path.join(directory, "launch.json"),
    output: path.join(directory, "output.jsonl"),
    collected: path.join(directory, "collected"),
  };
}

/** The last line of the output file: the status the entrypoint exits with. */
export interface JobExitLine {
  type: "ciab.job_exit";
  exit_code: number;
}

export function jobExitLine(status: number): string {
  return JSON.stringify({ type: "ciab.job_exit", exit_code: status } satisfies JobExitLine);
}

/** The exit status a line carries when it is the entrypoint's exit line. */
export function parseJobExit(line: string): number | undefined {
  if (!line.startsWith('{"type":"ciab.job_exit"')) return undefined;
  try {
    const value = JSON.parse(line) as Partial<JobExitLine>;
    return Number.isInteger(value.exit_code) && value.exit_code! >= 0 && value.exit_code! <= 255 ? value.exit_code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads `{ "env": { NAME: value } }` (the launch file's, or the sandbox config's); anything but an object of
 * strings without NUL under variable names is refused.
 */
export function parseLaunch(text: string, what = "the launch file"): Record<string, string> {
  const value = JSON.parse(text) as { env?: unknown } | null;
  const env = value?.env;
  if (typeof env !== "object" || env === null || Array.isArray(env)) throw new Error(`${what} has no env object`);
  for (const [name, entry] of Object.entries(env)) {
    if (typeof entry !== "string" || entry.includes("\0") || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`${what}'s env ${JSON.stringify(name).slice(0, 80)} is not a string variable`);
    }
  }
  return env as Record<string, string>;
}
