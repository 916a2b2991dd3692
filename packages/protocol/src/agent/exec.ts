/** Exec over the agent channel: one-shot with captured output, or streamed as NDJSON frames. */
export interface ExecRequest {
  /** argv; the first element is looked up on PATH. */
  command: string[];
  /** Working directory inside the sandbox; defaults to /workspace. */
  cwd?: string;
  /** Added to the sandbox's environment. */
  env?: Record<string, string>;
  /** Killed (SIGKILL to its process group) after this long; answered with `timedOut: true`. */
  timeoutMs?: number;
  /** Written to stdin, then stdin is closed. */
  stdin?: string;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
  /** True when stdout or stderr passed the capture limit and was cut. */
  truncated: boolean;
}

/** One line of a streamed exec or process output (NDJSON on the agent channel, SSE events on the API). */
export type ExecFrame =
  | { type: "start"; pid: number }
  | {
      type: "stdout" | "stderr";
      data: string;
      encoding: "base64";
      /**
       * Byte offset of `data`'s first byte in the process's whole stdout. Set on stdout frames of an output
       * read that asked for `stdoutOffset`, so a reader that reconnects resumes exactly where it stopped.
       */
      offset?: number;
    }
  | { type: "exit"; exitCode: number | null; signal: string | null; timedOut: boolean; durationMs: number };

/** Largest stdout or stderr that one-shot exec keeps, per stream. */
export const execCaptureLimitBytes = 16 * 1024 * 1024;
