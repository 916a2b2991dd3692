import { spawn } from "node:child_process";

export interface DockerResult {
  stdout: string;
  stderr: string;
}

export interface DockerOptions {
  /** Bytes written to the command's stdin. */
  input?: Buffer | string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A command's failure: its exit code (undefined when it was killed) and its output's tail. */
export class DockerCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | undefined,
    readonly result: DockerResult,
  ) {
    super(message);
  }
}

/** Output beyond this keeps only its last bytes: a boot stage may print much, and only its end helps. */
const keptOutputBytes = 256 * 1024;

/** Runs the docker CLI bounded in time and kept output; rejects with its stderr when it fails. */
export function docker(args: string[], options: DockerOptions = {}): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(options.signal.reason as Error);
    const child = spawn("docker", args, { stdio: ["pipe", "pipe", "pipe"] });
    const output = { stdout: "", stderr: "" };
    const keep = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      output[stream] = (output[stream] + chunk.toString()).slice(-keptOutputBytes);
    };
    child.stdout.on("data", keep("stdout"));
    child.stderr.on("data", keep("stderr"));
    child.stdin.on("error", () => {
      // A command that exits without reading its input closes the pipe early; its exit status tells the outcome.
    });
    child.stdin.end(options.input);
    const kill = () => child.kill("SIGKILL");
    const timer = setTimeout(kill, options.timeoutMs ?? 60_000);
    options.signal?.addEventListener("abort", kill, { once: true });
    const finish = (error?: Error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", kill);
      if (error) reject(error);
      else resolve(output);
    };
    child.once("error", finish);
    child.once("close", (code) => {
      if (code === 0) return finish();
      const what = `docker ${args.slice(0, 3).join(" ")}`;
      if (options.signal?.aborted) return finish(new DockerCommandError(`${what}: aborted`, undefined, output));
      if (code === null) return finish(new DockerCommandError(`${what}: killed after ${options.timeoutMs ?? 60_000} ms`, undefined, output));
      finish(new DockerCommandError(`${what}: ${output.stderr.trim().slice(-2000) || `exit ${code}`}`, code, output));
    });
  });
}

/** Whether an image is present, and its labels. */
export async function imageLabels(image: string): Promise<Record<string, string> | undefined> {
  try {
    const { stdout } = await docker(["image", "inspect", "--format", "{{ json .Config.Labels }}", image], { timeoutMs: 15_000 });
    return (JSON.parse(stdout) as Record<string, string> | null) ?? {};
  } catch {
    return undefined;
  }
}
