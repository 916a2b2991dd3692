/** Background processes: started, listed, signalled, their output replayed and followed. */
export interface StartProcessRequest {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** A label of the caller's, returned in listings. */
  tag?: string;
  /**
   * Also append stdout to a file in agentd's state dir, so it can be read again from any byte offset
   * (`GET /v1/processes/:pid/output?stdoutOffset=N`), however much the process wrote.
   */
  persistOutput?: boolean;
  /**
   * Run the command on a pseudo-terminal of this size: output is raw terminal bytes on stdout, input goes
   * through the stdin route, and `POST /v1/processes/:pid/resize` changes the size. TERM defaults to
   * xterm-256color.
   */
  pty?: TerminalSize;
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** Body of `POST /v1/processes/:pid/resize`. */
export type ResizeRequest = TerminalSize;

export interface ProcessInfo {
  /** The process id inside the sandbox. */
  pid: number;
  command: string[];
  cwd: string;
  tag?: string;
  /** Present when the process runs on a pseudo-terminal: its current size. */
  pty?: TerminalSize;
  /** Whether stdout is kept on disk and readable from any offset. */
  persistOutput?: boolean;
  startedAt: string;
  running: boolean;
  exitCode: number | null;
  signal: string | null;
}

export interface SignalRequest {
  signal: "SIGTERM" | "SIGKILL" | "SIGINT" | "SIGHUP" | "SIGSTOP" | "SIGCONT" | "SIGUSR1" | "SIGUSR2";
}

/** Output kept per process for replay; older output is dropped first. */
export const processReplayLimitBytes = 1024 * 1024;
